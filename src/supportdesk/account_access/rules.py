"""Pure decisions about account access: the grant state machine, narrowing (a grant is
never wider than its request), limits, and who may do what. No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from supportdesk.conversations import rules as conversation_rules
from supportdesk.core.auth import AgentPrincipal, CustomerPrincipal, Principal, Role, Tier
from supportdesk.core.errors import conflict, forbidden, invalid, not_found
from supportdesk.realtime.events import ConversationFacts

MIN_MINUTES = 5
MAX_REASON = 1000
DEFAULT_SCOPES = ("read",)

# state -> action -> next state. Anything missing is refused.
TRANSITIONS: dict[str, dict[str, str]] = {
    "pending": {
        "approve": "active",
        "deny": "denied",
        "expire": "expired_unanswered",
        "revoke": "revoked",  # the customer withdraws the question before answering it
        "complete": "completed",  # the conversation was resolved first
    },
    "active": {"expire": "expired", "revoke": "revoked", "complete": "completed"},
    "denied": {},
    "expired_unanswered": {},
    "expired": {},
    "revoked": {},
    "completed": {},
}
OPEN_STATES = frozenset({"pending", "active"})
TERMINAL_STATES = frozenset(state for state, moves in TRANSITIONS.items() if not moves)

# The refusal when an action meets a grant in the wrong state.
_REFUSAL = {
    "approve": "grant_already_decided",
    "deny": "grant_already_decided",
    "revoke": "grant_already_ended",
}


def next_state(state: str, action: str) -> str:
    """The grant's state after ``action``, or 409 with a code that says why not."""
    try:
        return TRANSITIONS[state][action]
    except KeyError:
        raise conflict(_REFUSAL.get(action, "grant_not_active"), state=state) from None


# --- due dates -----------------------------------------------------------------------


def lapse_action(
    state: str, answer_by: datetime, active_until: datetime | None, now: datetime
) -> str | None:
    """``"expire"`` when a pending request went unanswered or an active grant ran out
    at ``now``; otherwise ``None``. Boundaries belong to the past: at ``active_until``
    exactly, the grant is over."""
    if state == "pending" and now >= answer_by:
        return "expire"
    if state == "active" and active_until is not None and now >= active_until:
        return "expire"
    return None


def answer_by(requested_at: datetime, request_ttl_minutes: int) -> datetime:
    return requested_at + timedelta(minutes=request_ttl_minutes)


def token_expiry(now: datetime, ttl_seconds: int, active_until: datetime) -> datetime:
    """A support access token lives ``ttl_seconds`` and never outlives its grant."""
    return min(now + timedelta(seconds=ttl_seconds), active_until)


# --- what may be asked and granted ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccessAsk:
    scopes: tuple[str, ...]
    reason: str
    minutes: int


def check_scopes(scopes: Sequence[str], offered: Sequence[str]) -> tuple[str, ...]:
    """Each scope must be offered; duplicates are dropped and the offered order kept."""
    if not scopes:
        raise invalid("access_scopes_empty")
    for scope in scopes:
        if scope not in offered:
            raise invalid("access_scope_not_allowed", scope=scope)
    return tuple(scope for scope in offered if scope in scopes)


def check_minutes(minutes: int, limit: int) -> int:
    if minutes < MIN_MINUTES:
        raise invalid("access_duration_too_short", min_minutes=MIN_MINUTES)
    if minutes > limit:
        raise invalid("access_duration_too_long", max_minutes=limit)
    return minutes


def check_request(
    scopes: Sequence[str] | None,
    reason: str,
    minutes: int,
    *,
    offered: Sequence[str],
    max_minutes: int,
) -> AccessAsk:
    """A request's scopes (default ``read``), reason (1..1000 characters) and duration
    (5 minutes .. the configured cap)."""
    chosen = check_scopes(DEFAULT_SCOPES if scopes is None else scopes, offered)
    text = reason.strip()
    if not text:
        raise invalid("access_reason_required")
    if len(text) > MAX_REASON:
        raise invalid("access_reason_too_long", limit=MAX_REASON)
    return AccessAsk(chosen, text, check_minutes(minutes, max_minutes))


def narrow(
    requested_scopes: Sequence[str],
    requested_minutes: int,
    scopes: Sequence[str] | None,
    minutes: int | None,
) -> tuple[tuple[str, ...], int]:
    """What an approval grants: by default exactly the request; the approver may drop
    scopes and shorten the time, never add or lengthen."""
    granted = tuple(requested_scopes) if scopes is None else check_scopes(scopes, requested_scopes)
    length = requested_minutes if minutes is None else check_minutes(minutes, requested_minutes)
    return granted, length


# --- who may do what ------------------------------------------------------------------


def check_may_use_access(principal: Principal) -> None:
    """Customer-support agents (tier 1) and product staff never touch account access:
    403 on every access endpoint, before anything is looked up."""
    if isinstance(principal, AgentPrincipal) and not (
        principal.has(Role.TECHNICAL_SUPPORT) or principal.is_supervisor
    ):
        raise forbidden()


def can_view_grants(principal: Principal, conv: ConversationFacts) -> bool:
    """Portal administrators of the conversation's portal; technical support and
    supervisors who may see the conversation."""
    if isinstance(principal, AgentPrincipal) and not (
        principal.has(Role.TECHNICAL_SUPPORT) or principal.is_supervisor
    ):
        return False
    return conversation_rules.can_view(principal, conv)


def check_can_request(agent: AgentPrincipal, conv: ConversationFacts) -> None:
    """Only the technical-support specialist assigned to the (open) conversation."""
    if not conversation_rules.can_view(agent, conv):
        raise not_found()
    if (
        not agent.has(Role.TECHNICAL_SUPPORT)
        or conv.tier != Tier.TECHNICAL_SUPPORT.value
        or conv.assigned_agent_id != agent.agent_id
    ):
        raise forbidden("access_not_assigned")
    if conv.state != "assigned":
        raise conflict("conversation_resolved")


def check_can_decide(principal: Principal) -> CustomerPrincipal:
    """Approve, deny and revoke belong to the customer (a portal administrator, whose
    portal the loader has already matched); staff get 403."""
    if not isinstance(principal, CustomerPrincipal):
        raise forbidden()
    if not principal.is_portal_admin:
        raise not_found()
    return principal


def check_can_mint(agent: AgentPrincipal, specialist_id: int) -> None:
    """Only the one specialist named in the grant."""
    if agent.agent_id != specialist_id:
        raise forbidden("access_grant_not_yours")


def check_portal_admin(principal: Principal) -> CustomerPrincipal:
    """The customer-side lists (/me/access-grants, /me/access-log)."""
    if not isinstance(principal, CustomerPrincipal):
        raise forbidden()
    if not principal.is_portal_admin:
        raise forbidden("access_requires_portal_admin")
    return principal
