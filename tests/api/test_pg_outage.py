"""PostgreSQL restarts under a running server: requests meanwhile get 503
``service_unavailable`` with ``Retry-After`` (never a hang, never a 500), and service
comes back by itself when the database does."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from supportdesk import migrate
from tests.factories import key, start_live
from tests.servers import PostgresServer


@pytest.fixture
def own_postgres() -> Iterator[tuple[PostgresServer, str]]:
    """A cluster of this test's own: it is stopped mid-test, so never the shared one."""
    with PostgresServer() as server:
        url = server.create_database("outage")
        asyncio.run(migrate.upgrade(url))
        yield server, url


def unavailable(response: httpx.Response) -> bool:
    return (
        response.status_code == 503
        and response.json()["error"]["code"] == "service_unavailable"
        and int(response.headers["Retry-After"]) > 0
    )


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["shutdown", "crash"])
async def test_postgres_restart_answers_503_then_recovers(
    own_postgres: tuple[PostgresServer, str], tmp_path: Path, how: signal.Signals
) -> None:
    pg, url = own_postgres
    async with contextlib.AsyncExitStack() as stack:
        live = await stack.enter_async_context(start_live(url, tmp_path))
        customer = await live.customer()
        agent = await live.agent("Aiko", ["customer_support"])
        opened = await customer.post(
            "/api/v1/conversations", {"body": "Hello", "client_key": key()}
        )
        assert opened.status_code == 201, opened.text
        conv = opened.json()["conversation"]["id"]
        sock = await stack.enter_async_context(customer.socket())

        # The test cluster runs with synchronous_commit off: make what was committed
        # durable before a crash, as a production setting would.
        pg.psql("CHECKPOINT")
        pg.halt(how)
        # A short client timeout: a request that hangs fails the test with ReadTimeout.
        for _ in range(3):
            for response in (
                await customer.get(f"/api/v1/conversations/{conv}", timeout=15),
                await agent.get("/api/v1/conversations", timeout=15),
                await customer.post(
                    f"/api/v1/conversations/{conv}/messages",
                    {"body": "during", "client_key": key()},
                    timeout=15,
                ),
            ):
                assert unavailable(response), (response.status_code, response.text)
        # A socket stays open and is told to retry the frame with the same client_key.
        during_key = key()
        await sock.send(
            {
                "type": "message.send",
                "conversation_id": conv,
                "body": "ws",
                "client_key": during_key,
            }
        )
        refused = await sock.wait_for(lambda f: f["type"] in ("error", "ack"), timeout=30)
        assert refused["type"] == "error" and refused["code"] == "service_unavailable"
        assert refused["client_key"] == during_key

        pg.restart()
        # No restart of the app: pooled connections are checked before use.
        got = await customer.get(f"/api/v1/conversations/{conv}")
        assert got.status_code == 200, got.text
        sent = await customer.post(
            f"/api/v1/conversations/{conv}/messages", {"body": "after", "client_key": key()}
        )
        assert sent.status_code == 201, sent.text
        assert (await agent.get("/api/v1/conversations")).status_code == 200
        await sock.send(
            {
                "type": "message.send",
                "conversation_id": conv,
                "body": "ws",
                "client_key": during_key,
            }
        )
        acked = await sock.wait_for(lambda f: f["type"] in ("error", "ack"), timeout=30)
        assert acked["type"] == "ack", acked
