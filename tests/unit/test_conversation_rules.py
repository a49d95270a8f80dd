"""Conversation rules: the state machine, who sees what, and who may write or act."""

from __future__ import annotations

import pytest

from supportdesk.conversations.rules import (
    can_view,
    check_agent_action,
    check_body,
    check_can_rate,
    check_client_key,
    check_post,
    check_rating,
    check_transfer,
    next_state,
    parse_tier,
)
from supportdesk.core.auth import Role, Tier

from ._builders import TIER1, TIER2, agent, conversation, customer
from ._builders import raises_domain_error as raises

pytestmark = pytest.mark.unit

STATES = ("waiting", "assigned", "resolved", "closed")
ACTIONS = ("assign", "transfer", "resolve", "close")

# Written out independently of rules.TRANSITIONS, so a change there must change this too.
ALLOWED = {
    ("waiting", "assign"): "assigned",
    ("waiting", "resolve"): "resolved",
    ("assigned", "assign"): "assigned",
    ("assigned", "transfer"): "waiting",
    ("assigned", "resolve"): "resolved",
    ("resolved", "close"): "closed",
}
REFUSED = [(s, a) for s in STATES for a in ACTIONS if (s, a) not in ALLOWED]


# --- state machine ----------------------------------------------------------------


@pytest.mark.parametrize(("state", "action"), list(ALLOWED))
def test_allowed_transition(state: str, action: str) -> None:
    assert next_state(state, action) == ALLOWED[(state, action)]


@pytest.mark.parametrize(("state", "action"), REFUSED)
def test_refused_transition(state: str, action: str) -> None:
    with raises("invalid_state_transition", 409) as caught:
        next_state(state, action)
    assert caught.value.params == {"state": state, "action": action}


def test_refused_transitions_include_the_important_ones() -> None:
    for pair in [
        ("waiting", "transfer"),
        ("waiting", "close"),
        ("resolved", "assign"),
        ("resolved", "resolve"),
        ("assigned", "close"),
        ("closed", "assign"),
    ]:
        assert pair in REFUSED


def test_closed_is_final() -> None:
    for action in ACTIONS:
        with raises("invalid_state_transition", 409):
            next_state("closed", action)


@pytest.mark.parametrize(("state", "action"), [("bogus", "assign"), ("waiting", "reopen")])
def test_unknown_state_or_action_is_refused(state: str, action: str) -> None:
    with raises("invalid_state_transition", 409):
        next_state(state, action)


def test_parse_tier() -> None:
    assert parse_tier("technical_support") is Tier.TECHNICAL_SUPPORT
    with raises("unknown_tier", 422):
        parse_tier("tier3")


# --- visibility -------------------------------------------------------------------


def test_portal_admin_sees_their_portals_conversation() -> None:
    assert can_view(customer(role="admin", portal_id=1), conversation(portal_id=1))


def test_portal_admin_does_not_see_another_portals_conversation() -> None:
    assert not can_view(customer(role="admin", portal_id=1), conversation(portal_id=2))


def test_non_admin_customer_sees_nothing_even_in_their_portal() -> None:
    assert not can_view(customer(role="user", portal_id=1), conversation(portal_id=1))


def test_tier1_agent_sees_tier1_conversations_they_do_not_handle() -> None:
    assert can_view(agent(10, Role.CUSTOMER_SUPPORT), conversation(tier=TIER1, state="waiting"))


def test_tier1_agent_does_not_see_tier2_conversations() -> None:
    assert not can_view(
        agent(10, Role.CUSTOMER_SUPPORT), conversation(tier=TIER2, assigned_agent_id=20)
    )


def test_tier1_agent_who_handled_a_conversation_still_sees_it_at_tier2() -> None:
    facts = conversation(tier=TIER2, assigned_agent_id=20, participant_ids=[10, 20])

    assert can_view(agent(10, Role.CUSTOMER_SUPPORT), facts)


def test_agent_assigned_to_a_conversation_sees_it_whatever_the_tier() -> None:
    assert can_view(
        agent(10, Role.CUSTOMER_SUPPORT), conversation(tier=TIER2, assigned_agent_id=10)
    )


def test_tier2_agent_sees_tier2_but_not_tier1_conversations() -> None:
    specialist = agent(30, Role.TECHNICAL_SUPPORT)

    assert can_view(specialist, conversation(tier=TIER2))
    assert not can_view(specialist, conversation(tier=TIER1))


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
@pytest.mark.parametrize("tier", [TIER1, TIER2])
def test_supervisors_and_admins_see_every_conversation(role: Role, tier: str) -> None:
    assert can_view(agent(40, role), conversation(tier=tier, portal_id=99, assigned_agent_id=1))


@pytest.mark.parametrize("tier", [TIER1, TIER2])
def test_product_staff_see_no_conversation(tier: str) -> None:
    assert not can_view(agent(50, Role.PRODUCT), conversation(tier=tier, assigned_agent_id=1))


# --- posting ----------------------------------------------------------------------


@pytest.mark.parametrize("state", ["resolved", "closed"])
def test_customer_cannot_write_into_a_resolved_conversation(state: str) -> None:
    with raises("conversation_resolved", 409):
        check_post(customer(), conversation(state=state), internal=False)


@pytest.mark.parametrize("state", ["waiting", "assigned"])
def test_customer_writes_into_an_open_conversation(state: str) -> None:
    check_post(customer(), conversation(state=state), internal=False)


def test_customer_cannot_write_an_internal_note() -> None:
    with raises("forbidden", 403):
        check_post(customer(), conversation(state="assigned"), internal=True)


def test_customer_of_another_portal_gets_not_found() -> None:
    with raises("not_found", 404):
        check_post(customer(portal_id=2), conversation(portal_id=1), internal=False)


def test_assigned_agent_may_write_messages_and_notes() -> None:
    facts = conversation(state="assigned", assigned_agent_id=10, participant_ids=[10])

    check_post(agent(10), facts, internal=False)
    check_post(agent(10), facts, internal=True)


def test_earlier_participant_who_is_no_longer_assigned_is_read_only() -> None:
    facts = conversation(
        tier=TIER2, state="assigned", assigned_agent_id=20, participant_ids=[10, 20]
    )

    with raises("conversation_read_only", 403):
        check_post(agent(10, Role.CUSTOMER_SUPPORT), facts, internal=False)


def test_tier_agent_who_is_not_assigned_is_read_only() -> None:
    facts = conversation(tier=TIER1, state="assigned", assigned_agent_id=11)

    with raises("conversation_read_only", 403):
        check_post(agent(10, Role.CUSTOMER_SUPPORT), facts, internal=True)


def test_agent_who_cannot_see_the_conversation_gets_not_found() -> None:
    facts = conversation(tier=TIER2, state="assigned", assigned_agent_id=20)

    with raises("not_found", 404):
        check_post(agent(10, Role.CUSTOMER_SUPPORT), facts, internal=False)


def test_supervisor_may_write_into_a_conversation_assigned_to_someone_else() -> None:
    check_post(agent(40, Role.SUPERVISOR), conversation(assigned_agent_id=10), internal=False)


def test_nobody_writes_messages_into_a_closed_conversation_but_notes_are_allowed() -> None:
    facts = conversation(state="closed", assigned_agent_id=10)

    with raises("conversation_resolved", 409):
        check_post(agent(10), facts, internal=False)
    check_post(agent(10), facts, internal=True)


# --- bodies and client keys -------------------------------------------------------


@pytest.mark.parametrize("body", ["", " ", "\n\t  \n"])
def test_empty_or_blank_message_is_refused(body: str) -> None:
    with raises("message_empty", 422):
        check_body(body, 10_000)


def test_message_one_character_over_the_limit_is_refused() -> None:
    with raises("message_too_long", 422) as caught:
        check_body("a" * 10_001, 10_000)
    assert caught.value.params == {"length": 10_001, "limit": 10_000}


def test_message_exactly_at_the_limit_is_accepted() -> None:
    body = "a" * 10_000

    assert check_body(body, 10_000) == body


def test_message_is_returned_unchanged() -> None:
    assert check_body("  hello  ", 100) == "  hello  "


@pytest.mark.parametrize("key", ["k", "x" * 100])
def test_client_key_within_bounds_is_accepted(key: str) -> None:
    assert check_client_key(key) == key


@pytest.mark.parametrize("key", ["", "x" * 101])
def test_client_key_out_of_bounds_is_refused(key: str) -> None:
    with raises("client_key_invalid", 422):
        check_client_key(key)


# --- acting on a conversation -----------------------------------------------------


def test_agent_action_by_a_tier_agent_who_is_not_assigned_is_refused() -> None:
    facts = conversation(tier=TIER1, state="assigned", assigned_agent_id=11)

    with raises("conversation_not_assigned_to_you", 403):
        check_agent_action(agent(10, Role.CUSTOMER_SUPPORT), facts)


def test_agent_action_on_an_invisible_conversation_is_not_found() -> None:
    with raises("not_found", 404):
        check_agent_action(agent(10, Role.CUSTOMER_SUPPORT), conversation(tier=TIER2))


def test_transfer_by_an_unassigned_tier1_agent_is_refused() -> None:
    facts = conversation(tier=TIER1, state="assigned", assigned_agent_id=11)

    with raises("conversation_not_assigned_to_you", 403):
        check_transfer(agent(10, Role.CUSTOMER_SUPPORT), facts, Tier.TECHNICAL_SUPPORT, "see logs")


@pytest.mark.parametrize("note", ["", "   ", "\n"])
def test_transfer_without_a_handoff_note_is_refused(note: str) -> None:
    facts = conversation(tier=TIER1, state="assigned", assigned_agent_id=10)

    with raises("transfer_note_required", 422):
        check_transfer(agent(10), facts, Tier.TECHNICAL_SUPPORT, note)


def test_transfer_to_the_same_tier_is_refused() -> None:
    facts = conversation(tier=TIER1, state="assigned", assigned_agent_id=10)

    with raises("same_tier_transfer", 422):
        check_transfer(agent(10), facts, Tier.CUSTOMER_SUPPORT, "please take over")


def test_assigned_agent_transfers_to_the_other_tier() -> None:
    facts = conversation(tier=TIER1, state="assigned", assigned_agent_id=10)

    check_transfer(agent(10), facts, Tier.TECHNICAL_SUPPORT, "needs a specialist")


def test_supervisor_cannot_transfer_a_waiting_conversation() -> None:
    facts = conversation(tier=TIER1, state="waiting")

    with raises("invalid_state_transition", 409):
        check_transfer(agent(40, Role.SUPERVISOR), facts, Tier.TECHNICAL_SUPPORT, "escalate")


# --- rating -----------------------------------------------------------------------


@pytest.mark.parametrize("score", [0, 6, -1])
def test_rating_out_of_range_is_refused(score: int) -> None:
    with raises("rating_out_of_range", 422):
        check_rating(score, "")


@pytest.mark.parametrize("score", [1, 5])
def test_rating_at_the_bounds_is_accepted(score: int) -> None:
    check_rating(score, "thanks")


def test_rating_comment_over_the_limit_is_refused() -> None:
    check_rating(5, "a" * 2_000)
    with raises("comment_too_long", 422):
        check_rating(5, "a" * 2_001)


@pytest.mark.parametrize("state", ["waiting", "assigned"])
def test_rating_before_resolution_is_refused(state: str) -> None:
    with raises("conversation_not_resolved", 409):
        check_can_rate(customer(), conversation(state=state))


@pytest.mark.parametrize("state", ["resolved", "closed"])
def test_rating_after_resolution_is_allowed(state: str) -> None:
    check_can_rate(customer(), conversation(state=state))


def test_rating_another_portals_conversation_is_not_found() -> None:
    with raises("not_found", 404):
        check_can_rate(customer(portal_id=2), conversation(portal_id=1, state="resolved"))
