"""Signing customers in: verify the host's token, then upsert its portal and user."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit import actions as audit
from supportdesk.core.auth import CustomerPrincipal
from supportdesk.core.clock import utcnow
from supportdesk.core.i18n import normalize_locale
from supportdesk.identity.models import Plan, Portal, PortalUser
from supportdesk.identity.tokens import IdentityClaims, invalid_token, verify_identity_token
from supportdesk.services import Services
from supportdesk.triage.actions import record_installed_apps


class IdentityCache:
    """Verified tokens -> principals, so a token is checked and upserted once, not on
    every request. A new token (for example after a plan change) is a new key, so it
    takes effect at once. Entries end with their token's ``exp``."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[CustomerPrincipal, int]] = OrderedDict()

    def get(self, token: str, now: datetime) -> CustomerPrincipal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        principal, exp = entry
        if exp <= now.timestamp():
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return principal

    def put(self, token: str, principal: CustomerPrincipal, exp: int) -> None:
        self._entries[token] = (principal, exp)
        self._entries.move_to_end(token)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


async def authenticate_customer(svc: Services, token: str) -> CustomerPrincipal:
    """The principal for a host identity token, or 401 ``invalid_identity_token``."""
    now = utcnow()
    cached = svc.identity_cache.get(token, now)
    if cached is not None:
        return cached
    claims = verify_identity_token(token, svc.settings, now)
    try:
        principal = await do_upsert_customer(svc, claims)
    except IntegrityError:
        # Two first requests of a new portal raced on PostgreSQL; the row exists now.
        principal = await do_upsert_customer(svc, claims)
    svc.identity_cache.put(token, principal, claims.exp)
    return principal


async def do_upsert_customer(svc: Services, claims: IdentityClaims) -> CustomerPrincipal:
    """Create or update the token's portal and user. Unknown plans are refused."""
    async with svc.db.write() as session:
        plan = await session.get(Plan, claims.plan)
        if plan is None:
            raise invalid_token()
        portal = await _upsert_portal(session, claims)
        if "apps" in claims.model_fields_set:
            await record_installed_apps(session, portal.id, claims.apps)
        user = await _upsert_user(session, portal, claims)
        return CustomerPrincipal(
            user_id=user.id,
            portal_id=portal.id,
            external_user_id=user.external_id,
            external_portal_id=portal.external_id,
            role=user.role,
            plan_code=plan.code,
            plan_commercial=plan.commercial,
            name=user.name,
            locale=normalize_locale(user.locale),
        )


async def _upsert_portal(session: AsyncSession, claims: IdentityClaims) -> Portal:
    now = utcnow()
    portal = await session.scalar(select(Portal).where(Portal.external_id == claims.portal))
    if portal is None:
        portal = Portal(
            external_id=claims.portal, plan_code=claims.plan, created_at=now, updated_at=now
        )
        session.add(portal)
        await session.flush()
        audit.record(
            session,
            None,
            "portal.created",
            subject_type="portal",
            subject_id=portal.id,
            portal_id=portal.id,
            plan=claims.plan,
        )
    elif portal.plan_code != claims.plan:
        audit.record(
            session,
            None,
            "portal.plan_changed",
            subject_type="portal",
            subject_id=portal.id,
            portal_id=portal.id,
            before=portal.plan_code,
            after=claims.plan,
        )
        portal.plan_code = claims.plan
        portal.updated_at = now
    return portal


async def _upsert_user(session: AsyncSession, portal: Portal, claims: IdentityClaims) -> PortalUser:
    now = utcnow()
    user = await session.scalar(
        select(PortalUser).where(
            PortalUser.portal_id == portal.id, PortalUser.external_id == claims.sub
        )
    )
    fields = {
        "name": claims.name,
        "email": claims.email,
        "role": claims.role,
        "locale": claims.locale,
    }
    if user is None:
        user = PortalUser(
            portal_id=portal.id, external_id=claims.sub, created_at=now, updated_at=now, **fields
        )
        session.add(user)
        await session.flush()
    elif any(getattr(user, key) != value for key, value in fields.items()):
        for key, value in fields.items():
            setattr(user, key, value)
        user.updated_at = now
    return user
