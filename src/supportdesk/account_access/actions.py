"""Every change to account access, as ``do_*`` functions.

Each one decides with ``rules``, writes the grant, its timeline item and its access-log
entry in one transaction, and publishes the items after the commit. Every time
decision uses ``svc.clock()``. Rows are locked conversation first, then grant, then the
portal's log head, in every action, so concurrent actions cannot deadlock.

A refusal met after something was written (a grant found lapsed on the way: it is
expired first, and that is kept) is raised after the commit, never inside it.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.account_access import keys, rules
from supportdesk.account_access import log as access_log
from supportdesk.account_access.log import HOST, SYSTEM, LogActor, actor_of
from supportdesk.account_access.models import AccessGrant, GrantState
from supportdesk.account_access.queries import AccessGrantPublic, access_grant_by_id, grant_views
from supportdesk.audit import actions as audit
from supportdesk.conversations.models import Conversation, ItemKind
from supportdesk.conversations.queries import access_conversation_by_id
from supportdesk.conversations.timeline import (
    Draft,
    append_items,
    facts_of,
    item_events,
    participants_of,
)
from supportdesk.core.auth import AgentPrincipal, CustomerPrincipal, Principal
from supportdesk.core.errors import DomainError, conflict, forbidden
from supportdesk.identity.models import Portal
from supportdesk.realtime.events import ConversationFacts, ItemPublic
from supportdesk.services import Services
from supportdesk.staff.models import Agent

log = logging.getLogger(__name__)

ISSUER = "supportdesk"

# (state before, action) -> (timeline event, access-log action) of a grant's ending.
_ENDINGS = {
    ("pending", "expire"): ("access_request_expired", "request_expired"),
    ("active", "expire"): ("access_expired", "expired"),
    ("pending", "deny"): ("access_denied", "denied"),
    ("pending", "revoke"): ("access_revoked", "revoked"),
    ("active", "revoke"): ("access_revoked", "revoked"),
    ("pending", "complete"): ("access_completed", "completed"),
    ("active", "complete"): ("access_completed", "completed"),
}


def _iso(value: datetime) -> str:
    return value.isoformat()


async def _log(
    session: AsyncSession,
    grant: AccessGrant,
    action: str,
    actor: LogActor,
    now: datetime,
    **data: Any,
) -> None:
    await access_log.append(
        session,
        portal_id=grant.portal_id,
        action=action,
        actor=actor,
        at=now,
        grant_id=grant.id,
        conversation_id=grant.conversation_id,
        data=data,
    )


async def _end(
    session: AsyncSession,
    conv: Conversation,
    grant: AccessGrant,
    action: str,
    actor: LogActor,
    now: datetime,
    ended_at: datetime | None = None,
) -> list[ItemPublic]:
    """Move a pending or active grant to a terminal state, with its system item and
    log entry."""
    event, logged = _ENDINGS[(grant.state, action)]
    grant.state = rules.next_state(grant.state, action)
    grant.ended_at = ended_at or now
    items = await append_items(
        session,
        conv,
        [Draft(ItemKind.SYSTEM, None, data={"event": event, "grant_id": grant.id})],
        now,
    )
    await _log(session, grant, logged, actor, now)
    return items


async def _lapse_if_due(
    session: AsyncSession, conv: Conversation, grant: AccessGrant, now: datetime
) -> list[ItemPublic]:
    """Expire a grant whose time is up (an unanswered request, or an active grant past
    ``active_until``): the sweep's work, done on the spot when an action meets it."""
    if rules.lapse_action(grant.state, grant.answer_by, grant.active_until, now) is None:
        return []
    due = grant.answer_by if grant.state == GrantState.PENDING.value else grant.active_until
    return await _end(session, conv, grant, "expire", SYSTEM, now, ended_at=due)


async def _publish(svc: Services, facts: ConversationFacts, items: Sequence[ItemPublic]) -> None:
    if items:
        await svc.bus.publish(item_events(facts, items))


# --- request and decisions -----------------------------------------------------------


async def do_request_access(
    svc: Services,
    agent: AgentPrincipal,
    conversation_id: int,
    scopes: Sequence[str] | None,
    reason: str,
    minutes: int,
) -> AccessGrantPublic:
    """The assigned specialist asks; the customer's chat gets an ``access_request`` card."""
    rules.check_may_use_access(agent)
    ask = rules.check_request(
        scopes,
        reason,
        minutes,
        offered=svc.settings.access_scope_list,
        max_minutes=svc.settings.access_max_minutes,
    )
    now = svc.clock()
    async with svc.db.write() as session:
        conv, facts = await access_conversation_by_id(session, agent, conversation_id, lock=True)
        rules.check_can_request(agent, facts)
        waiting = await session.scalar(
            select(AccessGrant.id).where(
                AccessGrant.conversation_id == conv.id,
                AccessGrant.specialist_id == agent.agent_id,
                AccessGrant.state == GrantState.PENDING.value,
                AccessGrant.answer_by > now,
            )
        )
        if waiting is not None:
            raise conflict("access_request_already_pending")
        grant = AccessGrant(
            conversation_id=conv.id,
            portal_id=conv.portal_id,
            specialist_id=agent.agent_id,
            state=GrantState.PENDING.value,
            requested_scopes=list(ask.scopes),
            scopes=[],
            reason=ask.reason,
            requested_minutes=ask.minutes,
            granted_minutes=None,
            requested_at=now,
            answer_by=rules.answer_by(now, svc.settings.access_request_ttl_minutes),
        )
        session.add(grant)
        await session.flush()
        items = await append_items(
            session,
            conv,
            # The specialist is the card's author: "who asks" is on the item itself.
            [Draft(ItemKind.CARD, agent, data={"card": "access_request", "grant_id": grant.id})],
            now,
        )
        await _log(
            session,
            grant,
            "requested",
            actor_of(agent),
            now,
            scopes=list(ask.scopes),
            minutes=ask.minutes,
            reason=ask.reason,
        )
        view = (await grant_views(session, [grant]))[0]
        facts = facts_of(conv, facts.participant_ids)
    await _publish(svc, facts, items)
    return view


async def _decide(
    svc: Services,
    principal: Principal,
    grant_id: int,
    action: str,
    scopes: Sequence[str] | None = None,
    minutes: int | None = None,
) -> AccessGrantPublic:
    """Approve, deny or revoke: the customer's decisions."""
    if not isinstance(principal, CustomerPrincipal):
        raise forbidden()
    now = svc.clock()
    refusal: DomainError | None = None
    async with svc.db.write() as session:
        grant, conv, facts = await access_grant_by_id(session, principal, grant_id, lock=True)
        customer = rules.check_can_decide(principal)
        items = await _lapse_if_due(session, conv, grant, now)
        try:
            rules.next_state(grant.state, action)
        except DomainError as error:
            refusal = error
        if refusal is None and action == "approve":
            granted, length = rules.narrow(
                grant.requested_scopes, grant.requested_minutes, scopes, minutes
            )
            items += await _approve(session, conv, grant, customer, granted, length, now)
        elif refusal is None:
            if action == "deny":
                grant.decided_at, grant.decided_by = now, customer.user_id
            items += await _end(session, conv, grant, action, actor_of(customer), now)
        view = (await grant_views(session, [grant]))[0]
    await _publish(svc, facts, items)
    if refusal is not None:
        raise refusal
    return view


async def _approve(
    session: AsyncSession,
    conv: Conversation,
    grant: AccessGrant,
    customer: CustomerPrincipal,
    scopes: tuple[str, ...],
    minutes: int,
    now: datetime,
) -> list[ItemPublic]:
    grant.state = rules.next_state(grant.state, "approve")
    grant.scopes = list(scopes)
    grant.granted_minutes = minutes
    grant.decided_at, grant.decided_by = now, customer.user_id
    grant.active_until = until = now + timedelta(minutes=minutes)
    specialist = await session.get(Agent, grant.specialist_id)
    items = await append_items(
        session,
        conv,
        [
            Draft(
                ItemKind.SYSTEM,
                None,
                data={
                    "event": "access_approved",
                    "grant_id": grant.id,
                    "until": _iso(until),
                    "specialist_name": specialist.name if specialist else "",
                },
            )
        ],
        now,
    )
    await _log(
        session,
        grant,
        "approved",
        actor_of(customer),
        now,
        scopes=list(scopes),
        minutes=minutes,
        until=_iso(until),
    )
    return items


async def do_approve(
    svc: Services,
    principal: Principal,
    grant_id: int,
    scopes: Sequence[str] | None = None,
    minutes: int | None = None,
) -> AccessGrantPublic:
    """Approve, optionally narrowed: fewer scopes, a shorter time, never more."""
    return await _decide(svc, principal, grant_id, "approve", scopes, minutes)


async def do_deny(svc: Services, principal: Principal, grant_id: int) -> AccessGrantPublic:
    return await _decide(svc, principal, grant_id, "deny")


async def do_revoke(svc: Services, principal: Principal, grant_id: int) -> AccessGrantPublic:
    """One click, any time while the grant is pending or active; tokens already minted
    answer inactive at introspection at once."""
    return await _decide(svc, principal, grant_id, "revoke")


# --- ends that come from elsewhere ------------------------------------------------------


async def do_complete_for_conversation(
    svc: Services, session: AsyncSession, conv: Conversation, actor: Principal | None
) -> list[ItemPublic]:
    """Inside the caller's transaction (``conversations.actions.do_resolve``, with the
    conversation row locked): its pending and active grants become ``completed`` (or
    ``expired`` if their time was already up). Returns the new items for the caller to
    publish after its commit."""
    now = svc.clock()
    grants = await session.scalars(
        select(AccessGrant)
        .where(
            AccessGrant.conversation_id == conv.id,
            AccessGrant.state.in_(sorted(rules.OPEN_STATES)),
        )
        .order_by(AccessGrant.id)
        .with_for_update()
    )
    items: list[ItemPublic] = []
    for grant in list(grants):
        lapsed = await _lapse_if_due(session, conv, grant, now)
        items += lapsed or await _end(session, conv, grant, "complete", actor_of(actor), now)
    return items


async def do_expire_grants(svc: Services) -> int:
    """Lapse unanswered requests past ``answer_by`` and active grants past
    ``active_until``; one transaction per conversation. Returns how many lapsed."""
    now = svc.clock()
    async with svc.db.read() as session:
        due = (
            await session.execute(
                select(AccessGrant.conversation_id, AccessGrant.id).where(
                    or_(
                        and_(
                            AccessGrant.state == GrantState.PENDING.value,
                            AccessGrant.answer_by <= now,
                        ),
                        and_(
                            AccessGrant.state == GrantState.ACTIVE.value,
                            AccessGrant.active_until <= now,
                        ),
                    )
                )
            )
        ).all()
        by_conversation: dict[int, list[int]] = defaultdict(list)
        for conversation_id, grant_id in due:
            by_conversation[conversation_id].append(grant_id)
    lapsed = 0
    for conversation_id in sorted(by_conversation):
        async with svc.db.write() as session:
            conv = await session.scalar(
                select(Conversation).where(Conversation.id == conversation_id).with_for_update()
            )
            assert conv is not None
            grants = await session.scalars(
                select(AccessGrant)
                .where(AccessGrant.id.in_(by_conversation[conversation_id]))
                .order_by(AccessGrant.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            items: list[ItemPublic] = []
            for grant in list(grants):  # state re-checked under the lock
                items += await _lapse_if_due(session, conv, grant, now)
            participants = await participants_of(session, [conv.id])
            facts = facts_of(conv, participants.get(conv.id, []))
        lapsed += len(items)
        await _publish(svc, facts, items)
    return lapsed


# --- signing keys and tokens ------------------------------------------------------------


async def do_rotate_signing_key(svc: Services) -> tuple[str, list[str]]:
    """``supportdesk keys rotate``: (the new key id, the retired key ids), audited."""
    async with svc.db.write() as session:
        new, retired = await keys.rotate(session, svc.settings, svc.clock())
        audit.record(
            session,
            None,
            "signing_key.rotated",
            subject_type="signing_key",
            subject_id=None,
            kid=new,
            retired=retired,
        )
    return new, retired


async def do_jwks(svc: Services) -> dict[str, list[dict[str, Any]]]:
    """The published public keys. On a fresh database the first call makes the signing
    key, so a host product can fetch the JWKS before the first token exists."""
    now = svc.clock()
    async with svc.db.read() as session:
        rows = await keys.published_keys(session, now)
    if not any(row.retired_at is None for row in rows):
        async with svc.db.write() as session:
            await keys.signing_key(session, svc.settings, now)
            rows = await keys.published_keys(session, now)
    return {"keys": [keys.jwk(row) for row in rows]}


@dataclass(frozen=True)
class MintedToken:
    token: str
    expires_at: datetime
    jti: str


async def do_mint_token(svc: Services, agent: AgentPrincipal, grant_id: int) -> MintedToken:
    """A support access token for the specialist named in an active grant: an EdDSA
    JWT living at most ``SUPPORTDESK_ACCESS_TOKEN_TTL_SECONDS`` and never past the
    grant. The first one posts ``access_first_used`` into the chat."""
    now = svc.clock()
    refusal: DomainError | None = None
    minted: MintedToken | None = None
    async with svc.db.write() as session:
        grant, conv, facts = await access_grant_by_id(session, agent, grant_id, lock=True)
        rules.check_can_mint(agent, grant.specialist_id)
        items = await _lapse_if_due(session, conv, grant, now)
        if grant.state != GrantState.ACTIVE.value or grant.active_until is None:
            refusal = conflict("grant_not_active", state=grant.state)
        else:
            key = await keys.signing_key(session, svc.settings, now)
            portal = await session.get(Portal, grant.portal_id)
            expires = rules.token_expiry(
                now, svc.settings.access_token_ttl_seconds, grant.active_until
            )
            jti = secrets.token_urlsafe(18)
            claims = {
                "iss": ISSUER,
                "sub": f"agent:{agent.agent_id}",
                "portal": portal.external_id if portal else "",
                "scope": " ".join(grant.scopes),
                "grant_id": grant.id,
                "jti": jti,
                "iat": int(now.timestamp()),
                "exp": int(expires.timestamp()),
            }
            token = jwt.encode(
                claims, key.private, algorithm=keys.ALGORITHM, headers={"kid": key.kid}
            )
            minted = MintedToken(token, expires, jti)
            if grant.first_used_at is None:
                grant.first_used_at = now
                items += await append_items(
                    session,
                    conv,
                    [
                        Draft(
                            ItemKind.SYSTEM,
                            None,
                            data={"event": "access_first_used", "grant_id": grant.id},
                        )
                    ],
                    now,
                )
            await _log(
                session,
                grant,
                "token_minted",
                actor_of(agent),
                now,
                jti=jti,
                expires_at=_iso(expires),
            )
    await _publish(svc, facts, items)
    if refusal is not None:
        raise refusal
    assert minted is not None
    return minted


async def _verified_claims(
    session: AsyncSession, token: str, now: datetime
) -> dict[str, Any] | None:
    """The claims of a token we signed with a key still published at ``now``, expired or
    not (the caller decides), or ``None``."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        return None
    published = {row.kid: row for row in await keys.published_keys(session, now)}
    if not isinstance(kid, str) or kid not in published:
        return None
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            keys.public_key(published[kid]),
            algorithms=[keys.ALGORITHM],
            issuer=ISSUER,
            options={
                "require": ["exp", "iat", "jti", "sub", "grant_id", "portal", "scope"],
                "verify_exp": False,  # checked against svc.clock() below
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError:
        return None
    if not isinstance(claims.get("grant_id"), int) or not isinstance(claims["exp"], int | float):
        return None
    return claims


async def do_introspect(svc: Services, token: str) -> dict[str, Any]:
    """RFC 7662-style answer for the host product: active only while the token is ours,
    unexpired, and its grant active (revocation shows at once). Every answer about one
    of our tokens is logged in the grant's portal log (actor: the host product); a token
    we never signed has no portal to log it in and is only logged to the service log."""
    now = svc.clock()
    answer: dict[str, Any] = {"active": False}
    items: list[ItemPublic] = []
    facts: ConversationFacts | None = None
    async with svc.db.write() as session:
        claims = await _verified_claims(session, token, now)
        grant = await session.get(AccessGrant, claims["grant_id"]) if claims else None
        if claims is None or grant is None:
            log.info("introspection of a token we did not sign (or whose key has gone)")
            return {"active": False}
        conv = await session.scalar(
            select(Conversation).where(Conversation.id == grant.conversation_id).with_for_update()
        )
        assert conv is not None
        grant = await session.scalar(
            select(AccessGrant)
            .where(AccessGrant.id == grant.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert grant is not None
        items = await _lapse_if_due(session, conv, grant, now)
        if (
            grant.state == GrantState.ACTIVE.value
            and claims["exp"] > now.timestamp()
            and claims["sub"] == f"agent:{grant.specialist_id}"
        ):
            answer = {
                "active": True,
                **{
                    name: claims[name]
                    for name in ("sub", "portal", "scope", "grant_id", "exp", "iat", "jti", "iss")
                },
            }
        await _log(
            session, grant, "introspected", HOST, now, jti=claims["jti"], active=answer["active"]
        )
        if items:
            participants = await participants_of(session, [conv.id])
            facts = facts_of(conv, participants.get(conv.id, []))
    if facts is not None:
        await _publish(svc, facts, items)
    return answer
