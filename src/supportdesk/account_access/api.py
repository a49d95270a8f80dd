"""Account access over HTTP: requests, decisions, tokens, introspection, the JWKS and
the access log."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from supportdesk.account_access import actions, queries, rules
from supportdesk.account_access.queries import AccessGrantPublic, AccessLogPage
from supportdesk.core.errors import DomainError
from supportdesk.deps import AgentDep, PrincipalDep, SvcDep

router = APIRouter(prefix="/api/v1", tags=["account access"])
well_known = APIRouter(tags=["account access"])

# Lengths are checked by the rules with their own codes; these caps only stop absurd
# bodies before they are parsed further.
HARD_CAP = 100_000
SCOPE_CAP = 100


class AccessRequestIn(BaseModel):
    scopes: list[str] | None = Field(default=None, max_length=SCOPE_CAP)
    reason: str = Field(max_length=HARD_CAP)
    duration_minutes: int


class ApproveIn(BaseModel):
    scopes: list[str] | None = Field(default=None, max_length=SCOPE_CAP)
    duration_minutes: int | None = None


@router.post("/conversations/{conversation_id}/access-requests", status_code=201)
async def request_access(
    conversation_id: int, body: AccessRequestIn, agent: AgentDep, svc: SvcDep
) -> AccessGrantPublic:
    """The assigned technical-support specialist asks the customer for access."""
    return await actions.do_request_access(
        svc, agent, conversation_id, body.scopes, body.reason, body.duration_minutes
    )


@router.get("/conversations/{conversation_id}/access-grants")
async def conversation_grants(
    conversation_id: int, principal: PrincipalDep, svc: SvcDep
) -> list[AccessGrantPublic]:
    async with svc.db.read() as session:
        return await queries.grants_of_conversation(session, principal, conversation_id)


@router.get("/access-grants/{grant_id}")
async def get_grant(grant_id: int, principal: PrincipalDep, svc: SvcDep) -> AccessGrantPublic:
    async with svc.db.read() as session:
        grant, _, _ = await queries.access_grant_by_id(session, principal, grant_id)
        return (await queries.grant_views(session, [grant]))[0]


@router.post("/access-grants/{grant_id}/approve")
async def approve(
    grant_id: int, principal: PrincipalDep, svc: SvcDep, body: ApproveIn | None = None
) -> AccessGrantPublic:
    """Approve, optionally with fewer scopes or a shorter time than requested."""
    body = body or ApproveIn()
    return await actions.do_approve(svc, principal, grant_id, body.scopes, body.duration_minutes)


@router.post("/access-grants/{grant_id}/deny")
async def deny(grant_id: int, principal: PrincipalDep, svc: SvcDep) -> AccessGrantPublic:
    return await actions.do_deny(svc, principal, grant_id)


@router.post("/access-grants/{grant_id}/revoke")
async def revoke(grant_id: int, principal: PrincipalDep, svc: SvcDep) -> AccessGrantPublic:
    return await actions.do_revoke(svc, principal, grant_id)


class TokenOut(BaseModel):
    token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_at: datetime
    jti: str


@router.post("/access-grants/{grant_id}/tokens", status_code=201)
async def mint_token(grant_id: int, agent: AgentDep, svc: SvcDep, response: Response) -> TokenOut:
    """A support access token for the specialist named in the active grant."""
    minted = await actions.do_mint_token(svc, agent, grant_id)
    response.headers["Cache-Control"] = "no-store"
    return TokenOut(token=minted.token, expires_at=minted.expires_at, jti=minted.jti)


class IntrospectIn(BaseModel):
    token: str = Field(max_length=10_000)


def _check_host_key(request: Request, configured: str) -> None:
    if not configured:
        raise DomainError("host_key_not_configured", 401)
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        sent.strip().encode(), configured.encode()
    ):
        raise DomainError("host_key_required", 401, headers={"WWW-Authenticate": "Bearer"})


@router.post("/access-tokens/introspect")
async def introspect(
    body: IntrospectIn, request: Request, svc: SvcDep, response: Response
) -> dict[str, Any]:
    """For the host product (``Authorization: Bearer <SUPPORTDESK_HOST_API_KEY>``):
    ``{"active": false}``, or the token's claims while its grant is active."""
    _check_host_key(request, svc.settings.host_api_key)
    response.headers["Cache-Control"] = "no-store"
    return await actions.do_introspect(svc, body.token)


@router.get("/me/access-grants")
async def my_portal_grants(principal: PrincipalDep, svc: SvcDep) -> list[AccessGrantPublic]:
    """Every grant of the caller's portal, newest first (portal administrators)."""
    rules.check_may_use_access(principal)
    customer = rules.check_portal_admin(principal)
    async with svc.db.read() as session:
        return await queries.grants_of_portal(session, customer)


@router.get("/me/access-log")
async def my_access_log(
    principal: PrincipalDep,
    svc: SvcDep,
    limit: int = Query(default=100, ge=1, le=500),
    before_id: int | None = None,
) -> AccessLogPage:
    """The portal's access log, newest first; page with ``before_id``. ``chain_intact``
    tells whether the portal's whole hash chain verifies."""
    rules.check_may_use_access(principal)
    customer = rules.check_portal_admin(principal)
    async with svc.db.read() as session:
        return await queries.access_log_page(session, customer, limit, before_id)


@well_known.get("/.well-known/jwks.json")
async def jwks(svc: SvcDep, response: Response) -> dict[str, list[dict[str, Any]]]:
    """The public keys that verify support access tokens (the current key, and retired
    keys until every token they signed has expired)."""
    response.headers["Cache-Control"] = "public, max-age=60"
    return await actions.do_jwks(svc)
