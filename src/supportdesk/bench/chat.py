"""``supportdesk bench chat``: chat throughput and latency against a real server.

It starts ``supportdesk serve`` (on a fresh SQLite file, or on the PostgreSQL database
given) and the bare relay, seeds one agent and one portal per pair, opens one
conversation per pair over HTTP, then drives both targets with the same closed-loop
client. Agents and their sessions are written straight into the database: hashing a
thousand argon2 passwords would only measure argon2.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import subprocess
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

from supportdesk.bench.load import (
    BenchResult,
    PairEndpoints,
    RelayProtocol,
    SupportdeskProtocol,
    run_closed_loop,
)
from supportdesk.bench.relay import free_port, relay_url, start_relay_server, wait_until_accepting
from supportdesk.config import Settings
from supportdesk.core.clock import utcnow
from supportdesk.core.db import Database
from supportdesk.identity.tokens import mint_identity_token
from supportdesk.staff.models import Agent, StaffSession

BENCH_SECRET = "bench-identity-secret-0123456789abcdef"


async def seed_agents(database_url: str, count: int, run: str) -> dict[int, str]:
    """``count`` online tier-1 agents with one chat slot each; returns id -> session token."""
    db = Database(database_url)
    now = utcnow()
    tokens: dict[int, str] = {}
    try:
        async with db.write() as session:
            rows = [
                {
                    "email": f"bench-{run}-{i}@bench.test",
                    "name": f"Bench agent {i}",
                    "password_hash": "!",
                    "roles": ["customer_support"],
                    "languages": ["en"],
                    "locale": "en",
                    "max_chats": 1,
                    "presence": "online",
                    "presence_changed_at": now,
                    "active": True,
                    "created_at": now,
                }
                for i in range(count)
            ]
            ids = (await session.scalars(insert(Agent).returning(Agent.id), rows)).all()
            sessions = []
            for agent_id in ids:
                token = "sds_" + secrets.token_urlsafe(32)
                tokens[agent_id] = token
                sessions.append(
                    {
                        "agent_id": agent_id,
                        "token_hash": hashlib.sha256(token.encode()).hexdigest(),
                        "csrf_token": "bench",
                        "created_at": now,
                        "expires_at": now + timedelta(hours=6),
                    }
                )
            await session.execute(insert(StaffSession), sessions)
    finally:
        await db.dispose()
    return tokens


async def prepare_pairs(
    settings: Settings, base_url: str, count: int, agent_base_url: str | None = None
) -> list[PairEndpoints]:
    """One conversation per pair; the agent's socket goes to ``agent_base_url`` when given
    (another app process), else to ``base_url`` like the customer's."""
    run = uuid.uuid4().hex[:8]
    agent_tokens = await seed_agents(settings.database_url_resolved, count, run)
    ws_base = base_url.replace("http://", "ws://")
    agent_ws_base = (agent_base_url or base_url).replace("http://", "ws://")
    semaphore = asyncio.Semaphore(20)

    async def open_one(index: int, http: httpx.AsyncClient) -> PairEndpoints:
        token = mint_identity_token(
            settings,
            portal=f"bench-{run}-{index}",
            user="admin",
            role="admin",
            plan="professional",
            now=utcnow(),
        )
        async with semaphore:
            response = await http.post(
                "/api/v1/conversations",
                json={"body": "bench", "client_key": uuid.uuid4().hex},
                headers={"Authorization": f"Bearer {token}"},
            )
        response.raise_for_status()
        conversation = response.json()["conversation"]
        agent = conversation["assigned_agent"]
        if agent is None:
            raise RuntimeError("a bench conversation was not assigned; are all agents online?")
        return PairEndpoints(
            customer_url=f"{ws_base}/api/v1/stream?token={token}",
            agent_url=f"{agent_ws_base}/api/v1/stream?token={agent_tokens[agent['id']]}",
            conversation_id=conversation["id"],
        )

    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        return list(await asyncio.gather(*(open_one(i, http) for i in range(count))))


class ServerProcess:
    """``supportdesk serve`` in a subprocess with its own settings."""

    def __init__(self, database_url: str, data_dir: Path, redis_url: str = "") -> None:
        self.port = free_port()
        env = dict(os.environ)
        env.update(
            {
                "SUPPORTDESK_DATABASE_URL": database_url,
                "SUPPORTDESK_DATA_DIR": str(data_dir),
                "SUPPORTDESK_IDENTITY_SECRET": BENCH_SECRET,
                "SUPPORTDESK_LOG_LEVEL": "warning",
                "SUPPORTDESK_REDIS_URL": redis_url,
            }
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "supportdesk", "serve", "--port", str(self.port)],
            env=env,
            stdin=subprocess.DEVNULL,
        )
        wait_until_accepting("127.0.0.1", self.port, self.proc, 60.0)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


async def bench_chat(
    pair_counts: list[int],
    duration_s: float,
    warmup_s: float,
    database_url: str | None,
    processes: int,
    redis_url: str = "",
) -> dict[str, BenchResult]:
    """Relay, then one supportdesk process, then (with ``redis_url``) two supportdesk
    processes sharing the database and Redis: customers on the first, agents on the
    second, so every message crosses Redis. All in the same run."""
    results: dict[str, BenchResult] = {}
    with tempfile.TemporaryDirectory(prefix="sd-bench-") as tmp:
        data_dir = Path(tmp)
        url = database_url or f"sqlite+aiosqlite:///{data_dir / 'bench.db'}"
        label = "postgresql" if url.startswith("postgresql") else "sqlite"
        settings = Settings(database_url=url, data_dir=data_dir, identity_secret=BENCH_SECRET)
        relay = start_relay_server()
        server = ServerProcess(url, data_dir)
        nodes: list[ServerProcess] = []
        try:
            for count in pair_counts:
                relay_pairs = [
                    PairEndpoints(
                        relay_url(relay.port, i, "customer"),
                        relay_url(relay.port, i, "agent"),
                        None,
                    )
                    for i in range(count)
                ]
                results[f"relay {count}"] = await run_closed_loop(
                    relay_pairs, RelayProtocol(), duration_s, warmup_s, processes
                )
                pairs = await prepare_pairs(settings, server.base_url, count)
                results[f"supportdesk/{label} {count}"] = await run_closed_loop(
                    pairs, SupportdeskProtocol(), duration_s, warmup_s, processes
                )
            if redis_url:
                server.stop()  # the two-process runs get the machine to themselves
                nodes = [ServerProcess(url, data_dir, redis_url) for _ in range(2)]
                for count in pair_counts:
                    pairs = await prepare_pairs(
                        settings, nodes[0].base_url, count, agent_base_url=nodes[1].base_url
                    )
                    results[f"supportdesk/{label}+redis x2 {count}"] = await run_closed_loop(
                        pairs, SupportdeskProtocol(), duration_s, warmup_s, processes
                    )
        finally:
            for node in nodes:
                node.stop()
            server.stop()
            relay.stop()
    return results
