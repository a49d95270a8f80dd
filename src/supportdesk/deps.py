"""FastAPI dependencies: the services, the caller's principal and locale.

Customers send their host identity token and staff their session token, both as
``Authorization: Bearer``; session tokens start with ``sds_``. The console may send the
session as the ``sd_session`` cookie instead, and then every unsafe method must carry
the session's CSRF token in ``X-CSRF-Token``.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from supportdesk.core.auth import AgentPrincipal, CustomerPrincipal, Principal, Role
from supportdesk.core.errors import DomainError, forbidden
from supportdesk.core.i18n import DEFAULT_LOCALE, Locale, locale_from_accept_language
from supportdesk.identity.actions import authenticate_customer
from supportdesk.services import Services
from supportdesk.staff.actions import SESSION_TOKEN_PREFIX, hash_token
from supportdesk.staff.queries import authenticate_session

SESSION_COOKIE = "sd_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_services(conn: HTTPConnection) -> Services:
    services: Services = conn.app.state.services
    return services


SvcDep = Annotated[Services, Depends(get_services)]


def request_locale(conn: HTTPConnection) -> Locale:
    """The principal's locale once known, else the browser's, else English."""
    chosen: Locale | None = getattr(conn.state, "locale", None)
    return (
        chosen or locale_from_accept_language(conn.headers.get("accept-language")) or DEFAULT_LOCALE
    )


async def resolve_principal(svc: Services, token: str) -> Principal:
    if token.startswith(SESSION_TOKEN_PREFIX):
        return await authenticate_session(svc, hash_token(token))
    return await authenticate_customer(svc, token)


def _bearer(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def get_principal(request: Request, svc: SvcDep) -> Principal:
    token = _bearer(request)
    if token is not None:
        principal = await resolve_principal(svc, token)
    elif cookie := request.cookies.get(SESSION_COOKIE):
        principal = await authenticate_session(svc, hash_token(cookie))
        if request.method not in SAFE_METHODS:
            sent = request.headers.get("x-csrf-token", "")
            if not principal.csrf_token or not hmac.compare_digest(sent, principal.csrf_token):
                raise DomainError("csrf_failed", 403)
    else:
        raise DomainError("authentication_required", 401)
    request.state.locale = principal.locale
    return principal


async def get_customer(
    principal: Annotated[Principal, Depends(get_principal)],
) -> CustomerPrincipal:
    if not isinstance(principal, CustomerPrincipal):
        raise forbidden()
    return principal


async def get_agent(principal: Annotated[Principal, Depends(get_principal)]) -> AgentPrincipal:
    if not isinstance(principal, AgentPrincipal):
        raise forbidden()
    return principal


async def get_supervisor(agent: Annotated[AgentPrincipal, Depends(get_agent)]) -> AgentPrincipal:
    if not agent.is_supervisor:
        raise forbidden()
    return agent


async def get_admin(agent: Annotated[AgentPrincipal, Depends(get_agent)]) -> AgentPrincipal:
    if not agent.has(Role.ADMIN):
        raise forbidden()
    return agent


PrincipalDep = Annotated[Principal, Depends(get_principal)]
CustomerDep = Annotated[CustomerPrincipal, Depends(get_customer)]
AgentDep = Annotated[AgentPrincipal, Depends(get_agent)]
SupervisorDep = Annotated[AgentPrincipal, Depends(get_supervisor)]
AdminDep = Annotated[AgentPrincipal, Depends(get_admin)]
