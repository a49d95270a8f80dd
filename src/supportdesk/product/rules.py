"""Pure decisions about topics and development requests: the state machines, who may do
what, mentions over merged topics and the ranking score. No I/O."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from supportdesk.core.auth import AgentPrincipal, Role
from supportdesk.core.errors import conflict, forbidden, invalid

TITLE_MAX = 200
TEXT_MAX = 5000
COMMENT_MAX = 5000
MAX_ATTACHMENTS = 10
HALF_LIFE_DAYS = 90.0
TREND_DAYS = 30

TOPIC_STATES = ("recorded", "under_discussion", "accepted", "declined")
# state -> states it may move to. Accepting creates the request, so it is final.
TOPIC_TRANSITIONS: dict[str, frozenset[str]] = {
    "recorded": frozenset({"under_discussion", "declined"}),
    "under_discussion": frozenset({"accepted", "declined", "recorded"}),
    "declined": frozenset({"under_discussion"}),
    "accepted": frozenset(),
}

REQUEST_KINDS = ("improvement", "bug")
COMPLEXITIES = ("S", "M", "L")
REQUEST_STATUSES = ("queued", "in_progress", "fixed", "released", "wont_fix")
REQUEST_TRANSITIONS: dict[str, frozenset[str]] = {
    "queued": frozenset({"in_progress", "wont_fix"}),
    "in_progress": frozenset({"queued", "fixed", "wont_fix"}),
    "fixed": frozenset({"in_progress", "released"}),
    "released": frozenset(),
    "wont_fix": frozenset({"queued"}),
}

# Request events: the request's own changes (its history, told to every linked chat and
# to webhooks) and ``linked``, the catch-up told to one conversation that was linked after
# the request existed (kept out of the history).
HISTORY_CHANGES = ("created", "status", "title")
LINKED_CHANGE = "linked"

REQUEST_PREFIX = "REQ-"
_REQUEST_NUMBER = re.compile(r"(?:REQ-)?(\d{1,9})", re.IGNORECASE)


# --- permissions -------------------------------------------------------------------------


def check_product(agent: AgentPrincipal) -> None:
    """Only the ``product`` role moves topics and requests."""
    if not agent.has(Role.PRODUCT):
        raise forbidden("product_role_required")


def check_bug_reporter(agent: AgentPrincipal) -> None:
    """Bug reports come from tier 2."""
    if not agent.has(Role.TECHNICAL_SUPPORT):
        raise forbidden("product_bug_tier2_only")


# --- input -------------------------------------------------------------------------------


def check_text(value: str, code: str, limit: int = TEXT_MAX, *, required: bool = True) -> str:
    text = value.strip()
    if required and not text:
        raise invalid(code, limit=limit)
    if len(text) > limit:
        raise invalid(code, limit=limit)
    return text


def check_title(title: str) -> str:
    return " ".join(check_text(title, "product_title_invalid", TITLE_MAX).split())


def check_topic_state(state: str) -> str:
    if state not in TOPIC_STATES:
        raise invalid("product_topic_state_unknown", state=state[:40])
    return state


def check_request_status(status: str) -> str:
    if status not in REQUEST_STATUSES:
        raise invalid("product_request_status_unknown", status=status[:40])
    return status


def check_kind(kind: str) -> str:
    if kind not in REQUEST_KINDS:
        raise invalid("product_request_kind_unknown", kind=kind[:40])
    return kind


def check_complexity(complexity: str) -> str:
    if complexity not in COMPLEXITIES:
        raise invalid("product_complexity_unknown", complexity=complexity[:40])
    return complexity


def check_attachment_ids(ids: Iterable[int]) -> list[int]:
    unique = list(dict.fromkeys(ids))
    if len(unique) > MAX_ATTACHMENTS:
        raise invalid("product_too_many_attachments", limit=MAX_ATTACHMENTS)
    return unique


def parse_request_number(text: str) -> int:
    """``REQ-1042`` or ``1042``; anything else is 404 (it names no request)."""
    from supportdesk.core.errors import not_found

    match = _REQUEST_NUMBER.fullmatch(text.strip())
    if match is None:
        raise not_found()
    return int(match.group(1))


def request_label(number: int) -> str:
    return f"{REQUEST_PREFIX}{number}"


# --- state machines ------------------------------------------------------------------------


def next_topic_state(current: str, wanted: str) -> str | None:
    """The new state, ``None`` when it already is ``wanted`` (nothing to do), or 409."""
    check_topic_state(wanted)
    if current == wanted:
        return None
    if wanted not in TOPIC_TRANSITIONS.get(current, frozenset()):
        raise conflict("product_topic_transition", state=current, to=wanted)
    return wanted


def check_confirmable(topic_state: str) -> None:
    """Confirming a bug accepts its topic straight from ``recorded`` or
    ``under_discussion``; a declined topic is reopened first (a deliberate decision is not
    overturned by a side door)."""
    if topic_state == "declined":
        raise conflict("product_topic_transition", state=topic_state, to="accepted")


def next_request_status(current: str, wanted: str) -> str | None:
    """The new status, ``None`` when it already is ``wanted`` (a retried call changes and
    notifies nothing), or 409."""
    check_request_status(wanted)
    if current == wanted:
        return None
    if wanted not in REQUEST_TRANSITIONS.get(current, frozenset()):
        raise conflict("product_request_transition", status=current, to=wanted)
    return wanted


# --- merging -------------------------------------------------------------------------------


def root_of(topic_id: int, merged_into: Mapping[int, int | None]) -> int:
    """The topic a (possibly merged) topic now counts toward."""
    seen = {topic_id}
    while (parent := merged_into.get(topic_id)) is not None:
        if parent in seen:  # never written (merge refuses cycles), but never loop
            break
        seen.add(parent)
        topic_id = parent
    return topic_id


def group_of(topic_id: int, merged_into: Mapping[int, int | None]) -> set[int]:
    """The topic and every topic merged into it, directly or through others."""
    return {t for t in merged_into if root_of(t, merged_into) == topic_id} | {topic_id}


def check_merge(source: int, target: int, merged_into: Mapping[int, int | None]) -> None:
    """A root topic may be merged into another root topic, never into itself."""
    if source == target:
        raise conflict("product_merge_into_itself")
    if merged_into.get(source) is not None:
        raise conflict("product_topic_merged")
    if merged_into.get(target) is not None:
        raise conflict("product_merge_target_merged")


# --- demand --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mention:
    """One link: which portal (on which plan) asked, and when."""

    portal_id: int
    plan_code: str
    at: datetime


def mentions(links: Iterable[Mention]) -> int:
    """Distinct portals: several wishes from one portal count once."""
    return len({link.portal_id for link in links})


def parse_plan_weights(text: str) -> dict[str, float]:
    """``pro:2,enterprise:3`` -> ``{"pro": 2.0, "enterprise": 3.0}``; other plans weigh 1."""
    weights: dict[str, float] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        plan, sep, value = part.partition(":")
        try:
            weight = float(value)
        except ValueError:
            raise ValueError(f"plan weight {part.strip()!r} is not plan:number") from None
        if not sep or not plan.strip() or not math.isfinite(weight) or weight < 0:
            raise ValueError(f"plan weight {part.strip()!r} is not plan:number")
        weights[plan.strip()] = weight
    return weights


def score(links: Iterable[Mention], now: datetime, weights: Mapping[str, float]) -> float:
    """``Σ over portals of w(plan) · 0.5^(age_days / 90)``, with each portal's most recent
    mention: a portal counts once, and a demand nobody repeated fades by half in 90 days."""
    latest: dict[int, Mention] = {}
    for link in links:
        kept = latest.get(link.portal_id)
        if kept is None or link.at > kept.at:
            latest[link.portal_id] = link
    total = 0.0
    for link in latest.values():
        age_days = max(0.0, (now - link.at).total_seconds() / 86400)
        total += weights.get(link.plan_code, 1.0) * 0.5 ** (age_days / HALF_LIFE_DAYS)
    return total


def rank_key(
    score_value: float, mention_count: int, created_at: datetime, topic_id: int
) -> tuple[float, int, datetime, int]:
    """Sort ascending with this key: highest score, then most mentions, then oldest topic."""
    return (-round(score_value, 9), -mention_count, created_at, topic_id)
