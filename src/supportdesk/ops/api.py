"""Operator endpoints: liveness, readiness and Prometheus metrics (docs/operations.md).

``/healthz`` says only that the process answers (a load balancer or orchestrator
restarts it otherwise). ``/readyz`` says whether it can serve: the database answers
``SELECT 1`` and, when ``SUPPORTDESK_REDIS_URL`` is set, Redis answers ``PING``; each
check has a short timeout, and a failing one gives 503 with every check's result, so a
node is taken out of rotation instead of hanging its requests.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from supportdesk import __version__
from supportdesk.ops.metrics import Metrics, check_metrics_token
from supportdesk.services import Services

log = logging.getLogger(__name__)

router = APIRouter(tags=["ops"])

CHECK_TIMEOUT_SECONDS = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


async def _check_database(svc: Services) -> None:
    async with svc.db.read() as session:
        await session.execute(text("SELECT 1"))


async def _check_redis(url: str) -> None:
    import redis.asyncio as redis

    client = redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        await client.ping()
    finally:
        await client.aclose()


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    svc: Services = request.app.state.services
    checks = {"database": _check_database(svc)}
    if svc.settings.redis_url:
        checks["redis"] = _check_redis(svc.settings.redis_url)
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                await check
            results[name] = "ok"
        except Exception as exc:  # any failure means "not ready", never a 500
            # The type only: a driver's message may name hosts or users.
            results[name] = f"unavailable: {type(exc).__name__}"
            log.warning("readiness check %s failed: %r", name, exc)
    if all(result == "ok" for result in results.values()):
        return JSONResponse({"status": "ready", "checks": results})
    return JSONResponse(
        {"status": "not_ready", "checks": results}, status_code=503, headers={"Retry-After": "5"}
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Response:
    svc: Services = request.app.state.services
    check_metrics_token(svc, authorization)
    registry: Metrics = request.app.state.metrics
    body, content_type = await registry.render(svc)
    return Response(body, media_type=content_type)
