"""Webhook HTTP API (admins): endpoints CRUD, a test delivery, and the delivery log."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from supportdesk.deps import AdminDep, SvcDep
from supportdesk.webhooks import actions, queries, rules
from supportdesk.webhooks.models import WebhookDelivery, WebhookEndpoint

router = APIRouter(prefix="/api/v1/admin/webhooks", tags=["webhooks"])

# The rules check lengths with their own codes; these caps only stop absurd bodies.
HARD_CAP = 10_000
LIST_CAP = 100


class EndpointOut(BaseModel):
    id: int
    url: str
    description: str
    events: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


class CreatedOut(EndpointOut):
    # Returned by the create call only; it cannot be read again.
    secret: str


class EndpointIn(BaseModel):
    url: str = Field(max_length=HARD_CAP)
    events: list[str] = Field(max_length=LIST_CAP)
    description: str = Field(default="", max_length=HARD_CAP)
    active: bool = True


class EndpointPatch(BaseModel):
    url: str | None = Field(default=None, max_length=HARD_CAP)
    events: list[str] | None = Field(default=None, max_length=LIST_CAP)
    description: str | None = Field(default=None, max_length=HARD_CAP)
    active: bool | None = None


class DeliveryOut(BaseModel):
    id: int
    delivery_id: str
    event: str
    attempt: int
    status_code: int | None
    error: str | None
    address: str | None
    duration_ms: int
    attempted_at: datetime
    delivered: bool


class PingOut(BaseModel):
    delivery_id: str


def view(endpoint: WebhookEndpoint) -> EndpointOut:
    return EndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        description=endpoint.description,
        events=list(endpoint.events),
        active=endpoint.active,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


def delivery_view(row: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=row.id,
        delivery_id=row.delivery_id,
        event=row.event,
        attempt=row.attempt,
        status_code=row.status_code,
        error=row.error,
        address=row.address,
        duration_ms=row.duration_ms,
        attempted_at=row.attempted_at,
        delivered=row.status_code is not None and rules.delivered(row.status_code),
    )


@router.get("")
async def list_endpoints(_: AdminDep, svc: SvcDep) -> list[EndpointOut]:
    async with svc.db.read() as session:
        return [view(e) for e in await queries.all_endpoints(session)]


@router.post("", status_code=201)
async def create_endpoint(admin: AdminDep, svc: SvcDep, body: EndpointIn) -> CreatedOut:
    """The answer carries the signing ``secret``: store it now, it is never shown again.
    A target the SSRF guard refuses answers 422 ``webhook_target_forbidden``."""
    created = await actions.do_create_endpoint(
        svc,
        admin,
        url=body.url,
        events=body.events,
        description=body.description,
        active=body.active,
    )
    return CreatedOut(**view(created.endpoint).model_dump(), secret=created.secret)


@router.get("/{endpoint_id}")
async def get_endpoint(_: AdminDep, svc: SvcDep, endpoint_id: int) -> EndpointOut:
    async with svc.db.read() as session:
        return view(await queries.access_endpoint_by_id(session, endpoint_id))


@router.patch("/{endpoint_id}")
async def update_endpoint(
    admin: AdminDep, svc: SvcDep, endpoint_id: int, body: EndpointPatch
) -> EndpointOut:
    """Change the URL, events, description or ``active`` (only the fields sent)."""
    endpoint = await actions.do_update_endpoint(
        svc,
        admin,
        endpoint_id,
        url=body.url,
        events=body.events,
        description=body.description,
        active=body.active,
    )
    return view(endpoint)


@router.delete("/{endpoint_id}", status_code=204)
async def delete_endpoint(admin: AdminDep, svc: SvcDep, endpoint_id: int) -> Response:
    await actions.do_delete_endpoint(svc, admin, endpoint_id)
    return Response(status_code=204)


@router.post("/{endpoint_id}/ping", status_code=202)
async def ping_endpoint(admin: AdminDep, svc: SvcDep, endpoint_id: int) -> PingOut:
    """Queue a signed ``webhook.ping`` delivery to this endpoint (see its log)."""
    return PingOut(delivery_id=await actions.do_ping_endpoint(svc, admin, endpoint_id))


@router.get("/{endpoint_id}/deliveries")
async def list_deliveries(
    _: AdminDep,
    svc: SvcDep,
    endpoint_id: int,
    limit: int = Query(default=50, ge=1, le=rules.DELIVERIES_LIMIT_MAX),
    before: int | None = Query(default=None, ge=1),
) -> list[DeliveryOut]:
    """Every attempt (status code, error, attempt number, time), newest first; page
    back with ``before=<id of the last row>``."""
    async with svc.db.read() as session:
        endpoint = await queries.access_endpoint_by_id(session, endpoint_id)
        rows = await queries.deliveries(session, endpoint.id, limit, before)
    return [delivery_view(row) for row in rows]
