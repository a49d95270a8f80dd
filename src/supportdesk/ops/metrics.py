"""Prometheus metrics of one app process, served at ``GET /metrics``.

Counters and the latency histogram are kept by ``OpsMiddleware`` as requests pass;
socket counts come from this process's ``Hub``; queue lengths and the outbox figures are
read from the database at scrape time (a few indexed aggregates), so they are the same
whichever process is scraped. Each app owns its registry, so several apps in one test
process do not collide.

Scrape every app process: counters and socket gauges are per process (see
docs/operations.md for ``serve --workers``).
"""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from supportdesk.conversations.models import Conversation, State
from supportdesk.core.errors import DomainError
from supportdesk.core.outbox import JobStatus, OutboxJob
from supportdesk.ops.logs import request_id_var

if TYPE_CHECKING:
    from supportdesk.services import Services

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUEST_ID_MAX = 64
# Any other method is counted as OTHER, so a client cannot mint label values.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "supportdesk_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "supportdesk_http_request_duration_seconds",
            "Time from request to the end of the response, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.sockets = Gauge(
            "supportdesk_websocket_connections",
            "Open chat sockets of this process, by kind (customer or staff).",
            ["kind"],
            registry=r,
        )
        self.queue = Gauge(
            "supportdesk_queue_waiting_conversations",
            "Conversations waiting for an agent, by tier.",
            ["tier"],
            registry=r,
        )
        self.outbox_jobs = Gauge(
            "supportdesk_outbox_jobs",
            "Outbox jobs not done, by status (pending or failed).",
            ["status"],
            registry=r,
        )
        self.outbox_lag = Gauge(
            "supportdesk_outbox_lag_seconds",
            "Age of the oldest pending job that is due (0 when none is): how far the "
            "workers are behind.",
            registry=r,
        )

    async def render(self, svc: Services) -> tuple[bytes, str]:
        """Refresh the gauges and return the exposition text and its content type."""
        hub = svc.hub
        self.sockets.labels("customer").set(sum(len(c) for c in hub.customers.values()))
        self.sockets.labels("staff").set(len(hub.staff))
        now = svc.clock()
        async with svc.db.read() as session:
            waiting = await session.execute(
                select(Conversation.tier, func.count())
                .where(Conversation.state == State.WAITING.value)
                .group_by(Conversation.tier)
            )
            jobs = await session.execute(
                select(OutboxJob.status, func.count())
                .where(OutboxJob.status.in_([JobStatus.PENDING.value, JobStatus.FAILED.value]))
                .group_by(OutboxJob.status)
            )
            oldest = await session.scalar(
                select(func.min(OutboxJob.available_at)).where(
                    OutboxJob.status == JobStatus.PENDING.value, OutboxJob.available_at <= now
                )
            )
        self.queue.clear()
        for tier, count in waiting:
            self.queue.labels(tier).set(count)
        counts: dict[str, int] = {status: count for status, count in jobs}
        for status in (JobStatus.PENDING.value, JobStatus.FAILED.value):
            self.outbox_jobs.labels(status).set(counts.get(status, 0))
        lag = (now - _aware(oldest, now)) if oldest is not None else timedelta(0)
        self.outbox_lag.set(max(lag.total_seconds(), 0.0))
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def _aware(moment: Any, now: Any) -> Any:
    # SQLite hands back naive datetimes (stored as UTC).
    if moment.tzinfo is None and now.tzinfo is not None:
        return moment.replace(tzinfo=now.tzinfo)
    return moment


def check_metrics_token(svc: Services, authorization: str | None) -> None:
    """With ``SUPPORTDESK_METRICS_TOKEN`` set, /metrics needs ``Authorization: Bearer``."""
    expected = svc.settings.metrics_token.get_secret_value()
    if not expected:
        return
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(
        given.strip().encode(), expected.encode()
    ):
        raise DomainError("metrics_token_required", 401, headers={"WWW-Authenticate": "Bearer"})


def _request_id(scope: Scope) -> str:
    """The proxy's ``X-Request-ID`` when it is short and plain, else a new one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = str(value.decode("latin-1"))
            if 0 < len(text) <= REQUEST_ID_MAX and all(c.isalnum() or c in "-_.:" for c in text):
                return text
            break
    return uuid.uuid4().hex


class OpsMiddleware:
    """For every HTTP request: a request id (context for logs, ``X-Request-ID`` on the
    response) and the request counter and latency by route template (``/api/v1/
    conversations/{conversation_id}``, never the raw path, so labels stay few). The chat
    socket does not pass through here (app.SupportdeskApp)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)
            request_id_var.reset(token)
