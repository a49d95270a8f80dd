"""Every state change of staff: accounts, logins, sessions and presence."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from supportdesk.audit import actions as audit
from supportdesk.core.auth import AgentPrincipal, Role
from supportdesk.core.clock import utcnow
from supportdesk.core.errors import DomainError, conflict
from supportdesk.core.i18n import Locale, normalize_locale
from supportdesk.realtime.events import PresenceEvent
from supportdesk.services import Services
from supportdesk.staff import rules
from supportdesk.staff.models import Agent, LoginFailure, Presence, StaffSession
from supportdesk.staff.queries import principal_for

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0000")


# Session tokens announce themselves, so a leaked one is easy to spot and to tell
# apart from a customer's identity JWT on the same Authorization header.
SESSION_TOKEN_PREFIX = "sds_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def do_create_agent(
    svc: Services,
    *,
    email: str,
    name: str,
    password: str,
    roles: list[str],
    languages: list[str],
    locale: str = "en",
    max_chats: int | None = None,
    actor: AgentPrincipal | None = None,
) -> Agent:
    parsed_roles = rules.parse_roles(roles)
    rules.check_password(password)
    email = email.strip().lower()
    async with svc.db.write() as session:
        if await session.scalar(select(Agent.id).where(Agent.email == email)) is not None:
            raise conflict("email_taken")
        now = utcnow()
        agent = Agent(
            email=email,
            name=name.strip() or email,
            password_hash=_hasher.hash(password),
            roles=[role.value for role in parsed_roles],
            languages=[lang.strip() for lang in languages if lang.strip()] or ["en"],
            locale=normalize_locale(locale),
            max_chats=max_chats or svc.settings.default_max_chats,
            presence=Presence.OFFLINE.value,
            presence_changed_at=now,
            created_at=now,
        )
        session.add(agent)
        await session.flush()
        audit.record(
            session,
            actor,
            "agent.created",
            subject_type="agent",
            subject_id=agent.id,
            email=email,
            roles=agent.roles,
        )
    return agent


@dataclass(frozen=True)
class LoginResult:
    token: str
    csrf_token: str
    principal: AgentPrincipal
    expires_in: int


async def do_login(svc: Services, email: str, password: str) -> LoginResult:
    """Check the password (throttled per email address) and open a session."""
    email = email.strip().lower()
    now = utcnow()
    window = timedelta(seconds=svc.settings.login_failure_window_seconds)
    async with svc.db.write() as session:
        failures = list(
            await session.scalars(
                select(LoginFailure.at).where(
                    LoginFailure.email == email, LoginFailure.at > now - window
                )
            )
        )
        retry_after = rules.login_retry_after(
            failures, now, svc.settings.login_max_failures, window
        )
        if retry_after is not None:
            raise rules.too_many_attempts(retry_after)
        agent = await session.scalar(select(Agent).where(Agent.email == email, Agent.active))
        # An unknown email still costs one argon2 verification, so timing does not tell
        # which addresses have accounts.
        matches = _password_matches(agent.password_hash if agent else _DUMMY_HASH, password)
        if agent is None or not matches:
            session.add(LoginFailure(email=email, at=now))
            audit.record(
                session,
                None,
                "staff.login_failed",
                subject_type="agent",
                subject_id=agent.id if agent else None,
                email=email,
            )
            # Commit the failure, then refuse.
            failed = True
        else:
            failed = False
            await session.execute(delete(LoginFailure).where(LoginFailure.email == email))
            token = SESSION_TOKEN_PREFIX + secrets.token_urlsafe(32)
            csrf = secrets.token_urlsafe(24)
            staff_session = StaffSession(
                agent_id=agent.id,
                token_hash=hash_token(token),
                csrf_token=csrf,
                created_at=now,
                expires_at=now + timedelta(seconds=svc.settings.session_ttl_seconds),
            )
            session.add(staff_session)
            await session.flush()
            audit.record(
                session,
                _principal(agent, staff_session),
                "staff.login",
                subject_type="agent",
                subject_id=agent.id,
            )
            principal = _principal(agent, staff_session)
    if failed:
        raise DomainError("invalid_credentials", 401)
    return LoginResult(token, csrf, principal, svc.settings.session_ttl_seconds)


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _principal(agent: Agent, staff_session: StaffSession) -> AgentPrincipal:
    return principal_for(agent, staff_session.id, staff_session.csrf_token)


async def do_logout(svc: Services, principal: AgentPrincipal) -> None:
    async with svc.db.write() as session:
        staff_session = await session.get(StaffSession, principal.session_id)
        if staff_session is not None and staff_session.revoked_at is None:
            staff_session.revoked_at = utcnow()
            audit.record(
                session,
                principal,
                "staff.logout",
                subject_type="agent",
                subject_id=principal.agent_id,
            )


async def do_set_presence(
    svc: Services, agent_id: int, presence: Presence, actor: AgentPrincipal | None
) -> bool:
    """Set presence; returns whether it changed. Coming online may free queue slots."""
    from supportdesk.conversations.assignment import do_assign_waiting

    async with svc.db.write() as session:
        agent = await session.get(Agent, agent_id)
        if agent is None:
            return False
        changed = agent.presence != presence.value
        if changed:
            before = agent.presence
            agent.presence = presence.value
            agent.presence_changed_at = utcnow()
            audit.record(
                session,
                actor,
                "agent.presence_changed",
                subject_type="agent",
                subject_id=agent.id,
                before=before,
                after=presence.value,
            )
        roles = [Role(role) for role in agent.roles]
    if changed:
        await svc.bus.publish([PresenceEvent(agent_id=agent_id, presence=presence.value)])
        if presence is Presence.ONLINE:
            await do_assign_waiting(svc, tiers=None, roles=roles)
    return changed


async def do_set_locale(svc: Services, agent: AgentPrincipal, locale: Locale) -> None:
    """The agent's interface language: the console and error messages follow it."""
    async with svc.db.write() as session:
        row = await session.get(Agent, agent.agent_id)
        if row is None or row.locale == locale:
            return
        audit.record(
            session,
            agent,
            "agent.locale_changed",
            subject_type="agent",
            subject_id=row.id,
            before=row.locale,
            after=locale,
        )
        row.locale = locale
