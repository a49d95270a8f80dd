"""Operator endpoints and logs: liveness, readiness (database and Redis, 503 with details
when either is away), Prometheus metrics (requests by route template, sockets, queues,
outbox), the metrics token, request ids, and JSON log lines that keep redaction."""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from supportdesk.cli import app as cli_app
from supportdesk.core import outbox
from supportdesk.core.db import Database
from supportdesk.ops.logs import JsonFormatter, request_id_var
from supportdesk.safety.logs import install_log_redaction
from tests.factories import SECRET, Live, key, start_live
from tests.servers import RedisServer, free_port


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        sample, _, value = line.rpartition(" ")
        metric_name, _, label_text = sample.partition("{")
        given = ",".join(sorted(label_text.rstrip("}").split(","))) if label_text else ""
        if metric_name == name and given == wanted:
            return float(value)
    return 0.0


async def test_healthz_and_readyz_when_all_is_well(live: Live) -> None:
    assert (await live.http.get("/healthz")).json()["status"] == "ok"
    ready = await live.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_readyz_is_503_with_details_when_the_database_is_down(live: Live) -> None:
    real = live.svc.db
    # A database URL nobody listens on stands for a database that went away.
    live.svc.db = Database(f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/gone")
    try:
        down = await live.http.get("/readyz")
        assert (await live.http.get("/healthz")).status_code == 200  # alive, not ready
    finally:
        await live.svc.db.dispose()
        live.svc.db = real
    assert down.status_code == 503
    assert down.headers["retry-after"] == "5"
    body = down.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"].startswith("unavailable: ")
    assert (await live.http.get("/readyz")).status_code == 200


@pytest.fixture
async def live_with_redis(
    database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Live, RedisServer]]:
    with RedisServer() as redis:
        async with start_live(database_url, tmp_path, redis_url=redis.url) as server:
            yield server, redis


async def test_readyz_checks_redis_when_configured(
    live_with_redis: tuple[Live, RedisServer],
) -> None:
    live, redis = live_with_redis
    ready = await live.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}
    redis.stop()
    down = await live.http.get("/readyz")
    assert down.status_code == 503
    assert down.json()["checks"]["database"] == "ok"
    assert down.json()["checks"]["redis"].startswith("unavailable: ")


async def test_metrics_count_requests_by_route_template_and_read_the_outbox(live: Live) -> None:
    customer = await live.customer(portal="metrics-portal", user="u1")
    opened = await customer.post("/api/v1/conversations", {"body": "hello", "client_key": key()})
    chat = opened.json()["conversation"]
    await customer.get(f"/api/v1/conversations/{chat['id']}")
    await live.http.get("/no/such/page")
    # One job overdue by a minute, one failed: lag and counts come from the table.
    async with live.svc.db.write() as session:
        outbox.enqueue(session, "test.nothing", {}, now=live.svc.clock() - timedelta(minutes=1))
        failed = outbox.enqueue(session, "test.nothing", {})
        failed.status = outbox.JobStatus.FAILED.value
    await live.svc.outbox_runner.stop()  # keep the due job pending while we look
    async with customer.socket():
        response = await live.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    template = "/api/v1/conversations/{conversation_id}"
    assert (
        metric(body, "supportdesk_http_requests_total", method="GET", route=template, status="200")
        == 1
    )
    assert (
        metric(
            body, "supportdesk_http_requests_total", method="GET", route="unmatched", status="404"
        )
        == 1
    )
    assert f"/api/v1/conversations/{chat['id']}" not in body  # never the raw path
    assert (
        metric(
            body, "supportdesk_http_request_duration_seconds_count", method="GET", route=template
        )
        == 1
    )
    assert metric(body, "supportdesk_websocket_connections", kind="customer") == 1
    assert metric(body, "supportdesk_queue_waiting_conversations", tier=chat["tier"]) == 1
    assert metric(body, "supportdesk_outbox_jobs", status="pending") == 1
    assert metric(body, "supportdesk_outbox_jobs", status="failed") == 1
    assert metric(body, "supportdesk_outbox_lag_seconds") >= 60


async def test_metrics_token_is_required_when_configured(database_url: str, tmp_path: Path) -> None:
    token = "metrics-token-0123456789abcdef0123"
    async with start_live(database_url, tmp_path, metrics_token=token) as live:
        assert (await live.http.get("/metrics")).status_code == 401
        wrong = await live.http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "metrics_token_required"
        right = await live.http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert right.status_code == 200
        assert "supportdesk_http_requests_total" in right.text


async def test_every_response_carries_a_request_id(live: Live) -> None:
    made = await live.http.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    kept = await live.http.get("/healthz", headers={"X-Request-ID": "lb-42.abc"})
    assert kept.headers["x-request-id"] == "lb-42.abc"
    odd = await live.http.get("/healthz", headers={"X-Request-ID": "has spaces<script>"})
    assert odd.headers["x-request-id"] != "has spaces<script>"


def test_json_log_lines_carry_the_request_id_and_stay_redacted() -> None:
    install_log_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    token = request_id_var.set("req-7")
    try:
        logger.info("client said: my password is Sunflower88 please help")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    finally:
        request_id_var.reset(token)
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    first, second = (orjson.loads(line) for line in stream.getvalue().splitlines())
    assert set(first) == {"time", "level", "logger", "message", "request_id"}
    assert first["level"] == "INFO"
    assert first["logger"] == "uvicorn.error"
    assert first["request_id"] == "req-7"
    assert "Sunflower88" not in first["message"]
    assert second["message"] == "failed"
    assert "ValueError: boom" in second["exception"]


def test_serve_with_several_workers_needs_redis(tmp_path: Path) -> None:
    env = {
        "SUPPORTDESK_IDENTITY_SECRET": SECRET,
        "SUPPORTDESK_DATA_DIR": str(tmp_path),
        "SUPPORTDESK_REDIS_URL": "",
    }
    result = CliRunner().invoke(cli_app, ["serve", "--workers", "2"], env=env)
    assert result.exit_code == 2
    assert "SUPPORTDESK_REDIS_URL" in result.output


async def test_app_processes_can_leave_the_outbox_to_workers_on_postgresql(
    database_url: str, tmp_path: Path
) -> None:
    async with start_live(database_url, tmp_path, outbox_in_process=False) as live:
        runs_here = live.svc.outbox_runner in outbox._runners
        # The embedded SQLite default has no workers: its runner always stays.
        assert runs_here == live.svc.db.is_sqlite


def test_serve_with_two_workers_shares_the_port_and_logs_json(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    port = free_port()
    with RedisServer() as redis, (tmp_path / "serve.log").open("ab") as log:
        env = {
            **os.environ,
            "PYTHONPATH": str(root / "src"),
            "SUPPORTDESK_IDENTITY_SECRET": SECRET,
            "SUPPORTDESK_DATA_DIR": str(tmp_path),
            "SUPPORTDESK_REDIS_URL": redis.url,
            "SUPPORTDESK_LOG_FORMAT": "json",
        }
        command = [sys.executable, "-m", "supportdesk", "serve", "--port", str(port)]
        server = subprocess.Popen(
            [*command, "--workers", "2"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                    if ready.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.2)
            assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    lines = [orjson.loads(line) for line in (tmp_path / "serve.log").read_text().splitlines()]
    started = {
        line["message"] for line in lines if line["message"].startswith("Started server process")
    }
    assert len(started) == 2  # two processes, each with its own pid
