"""``create_app(settings)``: routers, error handlers and the lifespan that owns the
database engines, the bus, the timeline writer and the WebSocket hub."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from supportdesk import __version__
from supportdesk.account_access.api import router as account_access_router
from supportdesk.account_access.api import well_known as account_access_well_known
from supportdesk.account_access.sweeper import grant_sweeper
from supportdesk.attachments.actions import attachment_collector
from supportdesk.attachments.api import router as attachments_router
from supportdesk.attachments.storage import ObjectLocks, build_storage
from supportdesk.audit.api import router as audit_router
from supportdesk.config import Settings
from supportdesk.conversations.api import router as conversations_router
from supportdesk.conversations.timeline import TimelineWriter
from supportdesk.core.db import Database
from supportdesk.core.errors import DomainError
from supportdesk.core.outbox import OutboxRunner
from supportdesk.deps import request_locale
from supportdesk.identity.actions import IdentityCache
from supportdesk.identity.api import router as identity_router
from supportdesk.knowledge.actions import ensure_index
from supportdesk.knowledge.api import router as knowledge_router
from supportdesk.ops.api import router as ops_router
from supportdesk.ops.metrics import Metrics, OpsMiddleware
from supportdesk.partners.api import router as partners_router
from supportdesk.product.api import router as product_router
from supportdesk.realtime.bus import Bus, InProcessBus
from supportdesk.realtime.gateway import Hub, stream
from supportdesk.reports.api import router as reports_router
from supportdesk.safety.echo import validation_message
from supportdesk.safety.logs import install_log_redaction
from supportdesk.saved_replies.api import router as saved_replies_router
from supportdesk.services import Services
from supportdesk.staff.api import router as staff_router
from supportdesk.triage.api import router as triage_router
from supportdesk.web.api import router as web_router
from supportdesk.webhooks.api import router as webhooks_router

log = logging.getLogger(__name__)


STREAM_PATH = "/api/v1/stream"


class SupportdeskApp(FastAPI):
    """FastAPI, with the chat socket served beside the middleware stack.

    Every frame a socket sends would otherwise pass through each middleware's ``send``
    wrapper; on the hot path that was a fifth of the server's CPU. The socket handler
    does its own error handling, so it needs none of them.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == STREAM_PATH:
            scope["app"] = self
            await stream(WebSocket(scope, receive, send))
            return
        await super().__call__(scope, receive, send)


def _build_bus(settings: Settings) -> Bus:
    if settings.redis_url:
        from supportdesk.realtime.redis_bus import RedisBus

        return RedisBus(settings.redis_url)
    return InProcessBus()


def build_services(settings: Settings, bus: Bus | None = None) -> Services:
    svc = Services(
        settings=settings,
        db=Database(settings.database_url_resolved),
        bus=bus or _build_bus(settings),
        identity_cache=IdentityCache(),
    )
    svc.storage = build_storage(settings)
    svc.object_locks = ObjectLocks()
    return svc


async def start_services(svc: Services) -> None:
    await ensure_index(svc)
    await svc.bus.start()
    svc.writer = TimelineWriter(svc)
    svc.writer.start()
    svc.hub = Hub(svc)
    svc.access_sweeper = grant_sweeper(svc)
    svc.access_sweeper.start()
    svc.attachment_collector = attachment_collector(svc)
    svc.attachment_collector.start()
    svc.outbox_runner = OutboxRunner(svc)
    # On PostgreSQL, SUPPORTDESK_OUTBOX_IN_PROCESS=false leaves the jobs to
    # `supportdesk worker` processes; the embedded SQLite default always runs them here.
    if svc.settings.outbox_in_process or svc.db.is_sqlite:
        svc.outbox_runner.start()


async def stop_services(svc: Services) -> None:
    await svc.outbox_runner.stop()
    await svc.attachment_collector.stop()
    await svc.access_sweeper.stop()
    await svc.hub.close()
    await svc.writer.stop()
    await svc.bus.stop()
    await svc.db.dispose()


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        svc = build_services(settings)
        await start_services(svc)
        app.state.services = svc
        try:
            yield
        finally:
            await stop_services(svc)

    # Raw WebSocket frames (at DEBUG) and socket URLs must not carry secrets into logs.
    install_log_redaction()
    app = SupportdeskApp(title="supportdesk", version=__version__, lifespan=lifespan)
    for router in (
        identity_router,
        staff_router,
        conversations_router,
        audit_router,
        reports_router,
        saved_replies_router,
        account_access_router,
        account_access_well_known,
        attachments_router,
        knowledge_router,
        partners_router,
        product_router,
        triage_router,
        webhooks_router,
        web_router,
    ):
        app.include_router(router)
    _install_error_handlers(app)

    # /healthz, /readyz, /metrics; the middleware gives every HTTP request an id for
    # the logs and counts it by route template.
    app.include_router(ops_router)
    app.state.metrics = Metrics()
    app.add_middleware(OpsMiddleware, metrics=app.state.metrics)
    return app


def create_app_from_env() -> FastAPI:
    """The app of ``SUPPORTDESK_*`` settings: the factory each process of
    ``supportdesk serve --workers N`` (or Gunicorn's Uvicorn workers) imports."""
    from supportdesk.config import get_settings

    return create_app(get_settings())


def _error(request: Request, error: DomainError) -> JSONResponse:
    return JSONResponse(
        error.body(request_locale(request)), status_code=error.status, headers=error.headers or None
    )


# SQLSTATE classes that mean "the server is not there right now", not "bad statement":
# 08 connection exception, 53 insufficient resources (too many connections),
# 57P01..57P03 admin shutdown, crash shutdown, cannot connect now (starting up).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P01", "57P02", "57P03")


def _server_unavailable(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return _error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        details: list[dict[str, Any]] = [
            # Never the input itself: a 422 must not echo a secret the client sent.
            {"loc": [str(part) for part in err.get("loc", ())], "msg": validation_message(err)}
            for err in exc.errors()
        ]
        first = details[0] if details else {"loc": [], "msg": "invalid"}
        detail = f"{'.'.join(first['loc'][1:]) or 'body'}: {first['msg']}"
        error = DomainError(
            "invalid_request", 422, params={"detail": detail}, extra={"details": details}
        )
        return _error(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return _error(request, DomainError("not_found", 404))
        if exc.status_code == 405:
            return _error(request, DomainError("method_not_allowed", 405))
        error = DomainError(
            "invalid_request",
            exc.status_code if 400 <= exc.status_code < 500 else 400,
            params={"detail": str(exc.detail)},
        )
        return _error(request, error)

    @app.exception_handler(OperationalError)
    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeoutError)  # every pooled connection busy or dead
    async def database_down(request: Request, exc: Exception) -> JSONResponse:
        if (
            isinstance(exc, DBAPIError)
            and not exc.connection_invalidated
            and not isinstance(exc, OperationalError)
            and not _server_unavailable(exc)
        ):
            log.exception("database error")
            return _error(request, DomainError("internal_error", 500))
        log.warning("database unavailable: %s", type(exc).__name__)
        return _error(
            request, DomainError("service_unavailable", 503, headers={"Retry-After": "5"})
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(request, DomainError("internal_error", 500))

    @app.exception_handler(OSError)
    async def connection_refused(request: Request, exc: OSError) -> JSONResponse:
        log.warning("dependency unavailable: %s", exc)
        return _error(
            request, DomainError("service_unavailable", 503, headers={"Retry-After": "5"})
        )
