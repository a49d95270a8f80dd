"""Pure decisions about conversations: visibility, who may write or act, the state
machine and the choice of assignee. No I/O, so they are tested in milliseconds."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from supportdesk.core.auth import AgentPrincipal, CustomerPrincipal, Principal, Role, Tier
from supportdesk.core.errors import conflict, forbidden, invalid, not_found
from supportdesk.realtime.events import ConversationFacts

MAX_CLIENT_KEY = 100
MAX_COMMENT = 2_000

# state -> action -> next state. Anything missing is refused.
TRANSITIONS: dict[str, dict[str, str]] = {
    "waiting": {"assign": "assigned", "resolve": "resolved"},
    "assigned": {"assign": "assigned", "transfer": "waiting", "resolve": "resolved"},
    "resolved": {"close": "closed"},
    "closed": {},
}


def next_state(state: str, action: str) -> str:
    """The state after ``action``, or 409 ``invalid_state_transition``."""
    try:
        return TRANSITIONS[state][action]
    except KeyError:
        raise conflict("invalid_state_transition", state=state, action=action) from None


def parse_tier(value: str) -> Tier:
    try:
        return Tier(value)
    except ValueError:
        raise invalid("unknown_tier", tier=value) from None


# --- visibility -------------------------------------------------------------------


def can_view(principal: Principal, conv: ConversationFacts) -> bool:
    """Customers see their portal's conversations if they administer the portal. Staff
    see their tiers' conversations and every conversation they ever handled;
    supervisors see all; product staff see none here (they work on the board)."""
    if isinstance(principal, CustomerPrincipal):
        return principal.is_portal_admin and conv.portal_id == principal.portal_id
    if principal.is_supervisor:
        return True
    if conv.tier in principal.tiers:
        return True
    return (
        principal.agent_id in conv.participant_ids or conv.assigned_agent_id == principal.agent_id
    )


def can_see_internal(principal: Principal) -> bool:
    return isinstance(principal, AgentPrincipal)


def can_write(agent: AgentPrincipal, conv: ConversationFacts) -> bool:
    """Only the assigned agent, or a supervisor, writes into a conversation. Agents who
    handled it earlier keep read-only access."""
    return conv.assigned_agent_id == agent.agent_id or agent.is_supervisor


# --- checks that raise ------------------------------------------------------------


def check_body(body: str, limit: int) -> str:
    text = body.strip()
    if not text:
        raise invalid("message_empty")
    if len(body) > limit:
        raise invalid("message_too_long", length=len(body), limit=limit)
    return body


def check_client_key(client_key: str) -> str:
    if not (1 <= len(client_key) <= MAX_CLIENT_KEY):
        raise invalid("client_key_invalid")
    return client_key


def check_post(principal: Principal, conv: ConversationFacts, internal: bool) -> None:
    """May ``principal`` add a message (or an internal note) to ``conv``?"""
    if not can_view(principal, conv):
        raise not_found()
    if isinstance(principal, CustomerPrincipal):
        if internal:
            raise forbidden()
        if conv.state in ("resolved", "closed"):
            raise conflict("conversation_resolved")
        return
    if conv.state in ("resolved", "closed") and not internal:
        raise conflict("conversation_resolved")
    if not can_write(principal, conv):
        raise forbidden("conversation_read_only")


def check_agent_action(agent: AgentPrincipal, conv: ConversationFacts) -> None:
    """Transfer and resolve: the assigned agent or a supervisor."""
    if not can_view(agent, conv):
        raise not_found()
    if conv.assigned_agent_id != agent.agent_id and not agent.is_supervisor:
        raise forbidden("conversation_not_assigned_to_you")


def check_transfer(
    agent: AgentPrincipal, conv: ConversationFacts, to_tier: Tier, note: str
) -> None:
    check_agent_action(agent, conv)
    if not note.strip():
        raise invalid("transfer_note_required")
    if conv.tier == to_tier.value:
        raise invalid("same_tier_transfer")
    next_state(conv.state, "transfer")


def check_preferred_agent(roles: Iterable[str]) -> None:
    if Role.TECHNICAL_SUPPORT.value not in roles:
        raise invalid("preferred_agent_not_specialist")


def check_rating(score: int, comment: str) -> None:
    if not 1 <= score <= 5:
        raise invalid("rating_out_of_range")
    if len(comment) > MAX_COMMENT:
        raise invalid("comment_too_long", limit=MAX_COMMENT)


def check_can_rate(customer: CustomerPrincipal, conv: ConversationFacts) -> None:
    if not can_view(customer, conv):
        raise not_found()
    if conv.state not in ("resolved", "closed"):
        raise conflict("conversation_not_resolved")


# --- assignment -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """An online agent of the tier, with their current load."""

    agent_id: int
    languages: tuple[str, ...]
    open_chats: int
    max_chats: int

    @property
    def has_free_slot(self) -> bool:
        return self.open_chats < self.max_chats


def choose_assignee(
    locale: str, preferred_agent_id: int | None, candidates: Iterable[Candidate]
) -> int | None:
    """Pick who takes a waiting conversation, or ``None`` to keep it queued.

    Eligible: speaks the customer's language and has a free slot. The preferred
    specialist wins when eligible; otherwise the fewest open chats, ties broken by
    the lowest id so the choice is deterministic.
    """
    eligible = [c for c in candidates if c.has_free_slot and locale in c.languages]
    if not eligible:
        return None
    for candidate in eligible:
        if candidate.agent_id == preferred_agent_id:
            return candidate.agent_id
    return min(eligible, key=lambda c: (c.open_chats, c.agent_id)).agent_id


def plan_assignments(
    queue: list[tuple[int, str, int | None]], candidates: list[Candidate]
) -> list[tuple[int, int]]:
    """Assign a FIFO queue of ``(conversation_id, locale, preferred_agent_id)``.

    Returns ``(conversation_id, agent_id)`` pairs. A conversation that nobody can take
    (say, no agent speaks its language) does not block the ones behind it.
    """
    load = {c.agent_id: c for c in candidates}
    result: list[tuple[int, int]] = []
    for conversation_id, locale, preferred in queue:
        chosen = choose_assignee(locale, preferred, load.values())
        if chosen is None:
            continue
        picked = load[chosen]
        load[chosen] = Candidate(
            picked.agent_id, picked.languages, picked.open_chats + 1, picked.max_chats
        )
        result.append((conversation_id, chosen))
    return result


# --- reading and finding ----------------------------------------------------------


def next_read_seq(current: int, requested: int, last_seq: int) -> int:
    """Where an agent's read marker goes. It never moves back (an older tab reporting
    late changes nothing) and never past the last item: a seq beyond it is clamped, so
    items written later still count as unread."""
    return max(current, min(requested, last_seq))


@dataclass(frozen=True, slots=True)
class SearchTerms:
    conversation_id: int | None  # "#12" and "12" name conversation 12
    text: str  # matched as a substring; empty for "#12", which asks for the number only


# Ids are 64-bit; a longer run of digits is text (an order number, say), never an id.
_CONVERSATION_NUMBER = re.compile(r"(#?)(\d{1,18})")


def parse_search(q: str) -> SearchTerms:
    """``"#12"`` finds conversation 12; ``"12"`` finds it and any text containing 12."""
    text = q.strip()
    number = _CONVERSATION_NUMBER.fullmatch(text)
    if number is None:
        return SearchTerms(None, text)
    hash_sign, digits = number.groups()
    return SearchTerms(int(digits), "" if hash_sign else digits)
