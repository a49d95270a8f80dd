"""Account access rules: the grant state machine, narrowing, limits, who may do what,
the access log's hash chain and the access settings. No database, no HTTP."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from supportdesk.account_access import rules
from supportdesk.account_access.log import GENESIS, entry_hash, verify_chain
from supportdesk.config import DEMO_HOST_API_KEY, Settings
from supportdesk.core.auth import Role
from supportdesk.core.errors import DomainError

from ._builders import (
    TIER2,
    agent,
    clear_supportdesk_environment,
    conversation,
    customer,
    raises_domain_error,
)

pytestmark = pytest.mark.unit

OFFERED = ("read", "write:settings")
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ALL_STATES = sorted(rules.TRANSITIONS)
ACTIONS = ("approve", "deny", "expire", "revoke", "complete")


# --- the state machine -------------------------------------------------------------


def test_pending_goes_to_active_denied_or_expired_unanswered() -> None:
    assert rules.next_state("pending", "approve") == "active"
    assert rules.next_state("pending", "deny") == "denied"
    assert rules.next_state("pending", "expire") == "expired_unanswered"


def test_active_ends_expired_revoked_or_completed() -> None:
    assert rules.next_state("active", "expire") == "expired"
    assert rules.next_state("active", "revoke") == "revoked"
    assert rules.next_state("active", "complete") == "completed"


def test_a_pending_request_can_be_withdrawn_or_completed_by_resolution() -> None:
    assert rules.next_state("pending", "revoke") == "revoked"
    assert rules.next_state("pending", "complete") == "completed"


@pytest.mark.parametrize("state", sorted(rules.TERMINAL_STATES))
@pytest.mark.parametrize("action", ACTIONS)
def test_terminal_states_never_move(state: str, action: str) -> None:
    with pytest.raises(DomainError) as caught:
        rules.next_state(state, action)
    assert caught.value.status == 409


def test_refusals_say_why() -> None:
    with raises_domain_error("grant_already_decided", 409):
        rules.next_state("active", "approve")
    with raises_domain_error("grant_already_decided", 409):
        rules.next_state("denied", "deny")
    with raises_domain_error("grant_already_ended", 409):
        rules.next_state("revoked", "revoke")
    with raises_domain_error("grant_not_active", 409):
        rules.next_state("expired", "expire")


def test_an_active_grant_is_never_approved_again() -> None:
    with raises_domain_error("grant_already_decided", 409):
        rules.next_state("active", "approve")


@given(st.lists(st.sampled_from(ACTIONS), max_size=8))
def test_any_sequence_of_actions_stays_in_known_states(actions: list[str]) -> None:
    """Whatever happens, the grant is in a known state, and once terminal it stays."""
    state = "pending"
    for action in actions:
        try:
            after = rules.next_state(state, action)
        except DomainError:
            after = state
        assert after in rules.TRANSITIONS
        if state in rules.TERMINAL_STATES:
            assert after == state
        state = after


# --- due dates -----------------------------------------------------------------------


def test_an_unanswered_request_lapses_at_answer_by() -> None:
    answer_by = rules.answer_by(NOW, 720)
    assert answer_by == NOW + timedelta(hours=12)
    before = answer_by - timedelta(microseconds=1)
    assert rules.lapse_action("pending", answer_by, None, before) is None
    assert rules.lapse_action("pending", answer_by, None, answer_by) == "expire"


def test_an_active_grant_lapses_at_active_until() -> None:
    until = NOW + timedelta(hours=1)
    assert rules.lapse_action("active", NOW, until, until - timedelta(seconds=1)) is None
    assert rules.lapse_action("active", NOW, until, until) == "expire"
    # Ended grants never lapse again.
    assert rules.lapse_action("revoked", NOW, until, until + timedelta(days=1)) is None


@given(st.integers(min_value=30, max_value=900), st.integers(min_value=0, max_value=100_000))
def test_a_token_never_outlives_its_grant(ttl: int, seconds_left: int) -> None:
    until = NOW + timedelta(seconds=seconds_left)
    expiry = rules.token_expiry(NOW, ttl, until)
    assert expiry <= until
    assert expiry <= NOW + timedelta(seconds=900)


# --- requests and narrowing ----------------------------------------------------------------


def test_a_request_defaults_to_read() -> None:
    ask = rules.check_request(None, " why ", 60, offered=OFFERED, max_minutes=1440)
    assert ask == rules.AccessAsk(("read",), "why", 60)


def test_a_request_keeps_the_offered_order_without_duplicates() -> None:
    ask = rules.check_request(
        ["write:settings", "read", "read"], "r", 60, offered=OFFERED, max_minutes=1440
    )
    assert ask.scopes == ("read", "write:settings")


def test_request_refusals() -> None:
    with raises_domain_error("access_scope_not_allowed", 422):
        rules.check_request(["admin"], "r", 60, offered=OFFERED, max_minutes=1440)
    with raises_domain_error("access_scopes_empty", 422):
        rules.check_request([], "r", 60, offered=OFFERED, max_minutes=1440)
    with raises_domain_error("access_reason_required", 422):
        rules.check_request(None, "  ", 60, offered=OFFERED, max_minutes=1440)
    with raises_domain_error("access_reason_too_long", 422):
        rules.check_request(None, "x" * 1001, 60, offered=OFFERED, max_minutes=1440)
    with raises_domain_error("access_duration_too_long", 422):
        rules.check_request(None, "r", 1441, offered=OFFERED, max_minutes=1440)
    with raises_domain_error("access_duration_too_short", 422):
        rules.check_request(None, "r", 4, offered=OFFERED, max_minutes=1440)


def test_approval_defaults_to_the_request() -> None:
    assert rules.narrow(["read", "write:settings"], 120, None, None) == (
        ("read", "write:settings"),
        120,
    )


def test_approval_may_drop_scopes_and_shorten() -> None:
    assert rules.narrow(["read", "write:settings"], 120, ["read"], 30) == (("read",), 30)


def test_approval_never_widens() -> None:
    with raises_domain_error("access_scope_not_allowed", 422):
        rules.narrow(["read"], 120, ["read", "write:settings"], None)
    with raises_domain_error("access_duration_too_long", 422):
        rules.narrow(["read"], 120, None, 121)
    with raises_domain_error("access_scopes_empty", 422):
        rules.narrow(["read"], 120, [], None)


@given(
    requested=st.lists(st.sampled_from(OFFERED), min_size=1, unique=True),
    requested_minutes=st.integers(min_value=5, max_value=10_080),
    scopes=st.none() | st.lists(st.sampled_from((*OFFERED, "admin", "write:billing"))),
    minutes=st.none() | st.integers(min_value=-10, max_value=20_000),
)
def test_a_grant_is_never_wider_than_its_request(
    requested: list[str], requested_minutes: int, scopes: list[str] | None, minutes: int | None
) -> None:
    try:
        granted, length = rules.narrow(requested, requested_minutes, scopes, minutes)
    except DomainError as error:
        assert error.status == 422
        return
    assert set(granted) <= set(requested)
    assert granted
    assert rules.MIN_MINUTES <= length <= requested_minutes


# --- who may do what ------------------------------------------------------------------


def specialist(agent_id: int = 20) -> Any:
    return agent(agent_id, Role.TECHNICAL_SUPPORT)


def test_tier_1_and_product_staff_are_refused_before_anything() -> None:
    for staff in (agent(10, Role.CUSTOMER_SUPPORT), agent(11, Role.PRODUCT)):
        with raises_domain_error("forbidden", 403):
            rules.check_may_use_access(staff)
    rules.check_may_use_access(specialist())
    rules.check_may_use_access(agent(12, Role.SUPERVISOR))
    rules.check_may_use_access(customer())


def test_only_the_assigned_specialist_may_request() -> None:
    conv = conversation(tier=TIER2, assigned_agent_id=20)
    rules.check_can_request(specialist(20), conv)
    with raises_domain_error("access_not_assigned", 403):
        rules.check_can_request(specialist(21), conv)
    with raises_domain_error("access_not_assigned", 403):
        rules.check_can_request(agent(20, Role.SUPERVISOR), conv)
    with raises_domain_error("conversation_resolved", 409):
        rules.check_can_request(specialist(20), conv.model_copy(update={"state": "resolved"}))


def test_a_specialist_who_cannot_see_the_conversation_gets_404() -> None:
    conv = conversation(tier="customer_support", assigned_agent_id=10)
    with raises_domain_error("not_found", 404):
        rules.check_can_request(specialist(20), conv)


def test_who_sees_grants() -> None:
    conv = conversation(portal_id=1, tier=TIER2, assigned_agent_id=20)
    assert rules.can_view_grants(customer(portal_id=1), conv)
    assert not rules.can_view_grants(customer(portal_id=2), conv)
    assert not rules.can_view_grants(customer(portal_id=1, role="user"), conv)
    assert rules.can_view_grants(specialist(21), conv)
    assert rules.can_view_grants(agent(12, Role.SUPERVISOR), conv)
    # Tier 1 may see the conversation (they handled it) but never the grants.
    assert not rules.can_view_grants(
        agent(10, Role.CUSTOMER_SUPPORT), conv.model_copy(update={"participant_ids": [10]})
    )


def test_only_a_portal_admin_decides_and_only_the_named_specialist_mints() -> None:
    assert rules.check_can_decide(customer()) == customer()
    with raises_domain_error("forbidden", 403):
        rules.check_can_decide(specialist())
    with raises_domain_error("not_found", 404):
        rules.check_can_decide(customer(role="user"))
    rules.check_can_mint(specialist(20), 20)
    with raises_domain_error("access_grant_not_yours", 403):
        rules.check_can_mint(specialist(21), 20)
    with raises_domain_error("access_requires_portal_admin", 403):
        rules.check_portal_admin(customer(role="user"))


# --- the hash chain ------------------------------------------------------------------------


@dataclass
class Entry:
    portal_id: int
    seq: int
    at: datetime
    action: str
    actor_type: str
    actor_id: int | None
    actor_name: str
    grant_id: int | None
    conversation_id: int | None
    data: dict[str, Any]
    prev_hash: str = ""
    hash: str = ""


@dataclass
class Head:
    seq: int
    hash: str


def chain(length: int) -> tuple[list[Entry], Head]:
    entries: list[Entry] = []
    prev = GENESIS
    for seq in range(1, length + 1):
        entry = Entry(
            1,
            seq,
            NOW + timedelta(seconds=seq),
            "requested",
            "agent",
            7,
            "Kenji",
            3,
            9,
            {"n": seq, "名": "花子"},
        )
        entry.prev_hash = prev
        entry.hash = prev = entry_hash(prev, entry)
        entries.append(entry)
    return entries, Head(length, prev)


def test_an_untouched_chain_verifies() -> None:
    entries, head = chain(5)
    assert verify_chain(entries, head).intact
    assert verify_chain([], None).intact


@pytest.mark.parametrize(
    "edit",
    [
        {"action": "denied"},
        {"data": {"n": 3, "名": "太郎"}},
        {"actor_name": "Someone else"},
        {"at": NOW},
        {"grant_id": 4},
    ],
)
def test_an_edited_entry_breaks_the_chain(edit: dict[str, Any]) -> None:
    entries, head = chain(5)
    entries[2] = replace(entries[2], **edit)
    check = verify_chain(entries, head)
    assert not check.intact
    assert check.broken_at_seq == 3


def test_an_edited_entry_with_a_recomputed_hash_still_breaks_the_next_link() -> None:
    entries, head = chain(5)
    forged = replace(entries[2], action="denied")
    forged.hash = entry_hash(forged.prev_hash, forged)
    entries[2] = forged
    assert verify_chain(entries, head).broken_at_seq == 4


def test_a_deleted_entry_or_tail_breaks_the_chain() -> None:
    entries, head = chain(5)
    assert not verify_chain(entries[:2] + entries[3:], head).intact
    assert not verify_chain(entries[:4], head).intact  # the head still names entry 5


def test_the_hash_covers_the_previous_hash() -> None:
    entries, _ = chain(1)
    assert entry_hash(GENESIS, entries[0]) != entry_hash("1" * 64, entries[0])


# --- settings ----------------------------------------------------------------------------

STRONG = "s" * 32


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_supportdesk_environment(monkeypatch)


def test_access_defaults(clean_env: None, tmp_path: Path) -> None:
    settings = Settings(identity_secret=STRONG, data_dir=tmp_path)
    assert settings.access_scope_list == ("read", "write:settings")
    assert settings.access_max_minutes == 1440
    assert settings.access_request_ttl_minutes == 720
    assert settings.access_token_ttl_seconds == 900
    assert settings.access_sweep_seconds == 30
    assert settings.host_api_key == ""


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("access_max_minutes", 10_081),
        ("access_max_minutes", 4),
        ("access_token_ttl_seconds", 901),
        ("access_sweep_seconds", 0),
        ("access_scopes", ""),
        ("access_scopes", "read,Write Everything"),
        ("host_api_key", "changeme"),
        ("host_api_key", "short"),
        ("host_api_key", DEMO_HOST_API_KEY),
        ("signing_key_secret", "secret"),
    ],
)
def test_access_settings_refuse_bad_values(
    clean_env: None, tmp_path: Path, field: str, value: object
) -> None:
    with pytest.raises(ValidationError):
        Settings(identity_secret=STRONG, data_dir=tmp_path, **{field: value})


def test_the_cap_of_seven_days_is_allowed(clean_env: None, tmp_path: Path) -> None:
    assert Settings(identity_secret=STRONG, data_dir=tmp_path, access_max_minutes=10_080)


def test_the_demo_brings_a_host_api_key(clean_env: None, tmp_path: Path) -> None:
    assert Settings(demo=True, data_dir=tmp_path).host_api_key == DEMO_HOST_API_KEY
