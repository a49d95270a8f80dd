"""Two app processes share PostgreSQL and Redis: a customer on one and an agent on the
other converse live, and the conversation survives Redis being killed and restarted."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import Actor, key
from tests.servers import RedisServer

from .procs import app_processes, create_agent, customer

RESUMED = 30  # seconds: the subscriber notices within a few heartbeats, then backs off


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


def is_message(body: str):  # type: ignore[no-untyped-def]
    return lambda item: item["kind"] == "message" and item["body"] == body


async def test_two_processes_converse_live_and_survive_a_redis_restart(
    pg_database: str, redis: RedisServer, tmp_path: Path
) -> None:
    database_url = pg_database
    async with app_processes(
        2, database_url, tmp_path / "data", SUPPORTDESK_REDIS_URL=redis.url
    ) as (a, b):
        agent = await create_agent(b, "Aiko", ["customer_support"])
        client = await customer(a)
        async with client.socket() as c_sock, agent.socket() as a_sock:
            opened = await client.post(
                "/api/v1/conversations", {"body": "Export is broken", "client_key": key()}
            )
            assert opened.status_code == 201, opened.text
            conv = opened.json()["conversation"]["id"]

            # Live across processes: the agent on B sees A's customer, and back.
            await a_sock.wait_item(conv, is_message("Export is broken"))
            await a_sock.send(
                {
                    "type": "message.send",
                    "conversation_id": conv,
                    "body": "On it",
                    "client_key": key(),
                }
            )
            await c_sock.wait_item(conv, is_message("On it"))

            # Redis dies mid-conversation: messages are still accepted on both sides.
            redis.halt()
            during = []
            for n in range(3):
                for who, body in ((client, f"customer {n}"), (agent, f"agent {n}")):
                    response = await who.post(
                        f"/api/v1/conversations/{conv}/messages",
                        {"body": body, "client_key": key()},
                    )
                    assert response.status_code == 201, response.text
                    during.append(body)

            # Every accepted message is in the database.
            history = (await agent.get(f"/api/v1/conversations/{conv}/items")).json()
            stored = {item["body"] for item in history}
            assert set(during) <= stored

            # Redis comes back on the same port: both sockets, never reconnected, catch up
            # on what the other process accepted meanwhile ...
            redis.restart()
            for body in during:
                await a_sock.wait_item(conv, is_message(body), timeout=RESUMED)
            seen_by_agent = [f["item"]["seq"] for f in a_sock.seen if f["type"] == "item"]
            assert len(seen_by_agent) == len(set(seen_by_agent))  # each item once
            for body in during:
                await c_sock.wait_item(conv, is_message(body), timeout=RESUMED)

            # ... and live fan-out resumes on the same sockets.
            await c_sock.send(
                {
                    "type": "message.send",
                    "conversation_id": conv,
                    "body": "Back?",
                    "client_key": key(),
                }
            )
            await a_sock.wait_item(conv, is_message("Back?"), timeout=RESUMED)
            await a_sock.send(
                {
                    "type": "message.send",
                    "conversation_id": conv,
                    "body": "Yes",
                    "client_key": key(),
                }
            )
            await c_sock.wait_item(conv, is_message("Yes"), timeout=RESUMED)
            seen_by_customer = [f["item"]["seq"] for f in c_sock.seen if f["type"] == "item"]
            assert len(seen_by_customer) == len(set(seen_by_customer))


async def test_presence_counts_the_sockets_of_every_process(
    pg_database: str, redis: RedisServer, tmp_path: Path
) -> None:
    async with app_processes(
        2, pg_database, tmp_path / "data", SUPPORTDESK_REDIS_URL=redis.url
    ) as (a, b):
        watcher = await create_agent(a, "Sara", ["supervisor"])
        on_b = await create_agent(b, "Aiko", ["customer_support"])
        on_a = Actor(a, on_b.token, on_b.id, on_b.name)  # the same agent, on process A

        async with watcher.socket() as w_sock:
            async with on_b.socket():
                async with on_a.socket():
                    pass  # A's last socket of Aiko closes; B still holds one
                # Well past A's grace period (0.2 s in these tests): A asked Redis, found
                # B's socket and left Aiko online.
                await asyncio.sleep(1.5)
                me = (await on_b.get("/api/v1/staff/me")).json()
                assert me["presence"] == "online"
            # The last socket anywhere closes: offline (the watcher on A hears it live).
            await w_sock.wait_for(
                lambda f: (
                    f["type"] == "presence"
                    and f["agent_id"] == on_b.id
                    and f["presence"] == "offline"
                )
            )
        assert (await on_b.get("/api/v1/staff/me")).json()["presence"] == "offline"
