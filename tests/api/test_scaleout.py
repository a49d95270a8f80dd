"""Scale-out on real servers: two app processes share PostgreSQL and Redis while a third
process runs ``supportdesk worker`` (the outbox work leaves the app processes), and an
app process killed with SIGKILL under load loses no accepted message and, with clients
retrying on the other process with the same client keys, duplicates none."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from supportdesk.app import build_services
from supportdesk.conversations.models import TimelineItem
from supportdesk.core.outbox import JobStatus, OutboxJob
from supportdesk.demo import DEMO_PARTNERS
from supportdesk.partners.actions import import_partners
from supportdesk.partners.rules import parse_csv
from supportdesk.realtime.bus import InProcessBus
from tests.factories import Actor, key
from tests.factories import test_settings as make_settings
from tests.mail import Inbox, smtp_server
from tests.servers import RedisServer

from .procs import AppProcess, app_processes, create_agent, customer, server_env

ASK = "Please build our whole approval workflow for expense claims."
SETTLED = 60  # seconds: generous upper bound for the worker to send the mail


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


def is_message(body: str):  # type: ignore[no-untyped-def]
    return lambda item: item["kind"] == "message" and item["body"] == body


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "supportdesk", "worker", "--concurrency", "2", "--poll", "0.1"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def outbox_jobs(database_url: str, data_dir: Path) -> list[OutboxJob]:
    svc = build_services(make_settings(database_url, data_dir), bus=InProcessBus())
    try:
        async with svc.db.read() as session:
            return list(await session.scalars(select(OutboxJob).order_by(OutboxJob.id)))
    finally:
        await svc.db.dispose()


async def test_two_app_processes_converse_while_a_worker_process_does_the_outbox_work(
    pg_database: str, redis: RedisServer, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, smtp_port = smtp
    data_dir = tmp_path / "data"
    mail_env = {
        "SUPPORTDESK_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "SUPPORTDESK_MAIL_FROM": "support@desk.example.com",
        "SUPPORTDESK_OUTBOX_RETRY_SECONDS": "0.2",
    }
    async with app_processes(
        2,
        pg_database,
        data_dir,
        SUPPORTDESK_REDIS_URL=redis.url,
        SUPPORTDESK_OUTBOX_IN_PROCESS="false",  # the app processes only enqueue
        SUPPORTDESK_SMTP_URL=mail_env["SUPPORTDESK_SMTP_URL"],
        SUPPORTDESK_MAIL_FROM=mail_env["SUPPORTDESK_MAIL_FROM"],
        SUPPORTDESK_OUTBOX_RETRY_SECONDS=mail_env["SUPPORTDESK_OUTBOX_RETRY_SECONDS"],
    ) as (a, b):
        svc = build_services(a.settings, bus=InProcessBus())
        try:
            await import_partners(svc, parse_csv(DEMO_PARTNERS.read_text(encoding="utf-8")))
        finally:
            await svc.db.dispose()
        worker: subprocess.Popen[bytes] | None = None
        code: int | None = None
        try:
            agent = await create_agent(b, "Aiko", ["customer_support"])
            client = await customer(a)
            async with client.socket() as c_sock, agent.socket() as a_sock:
                opened = await client.post(
                    "/api/v1/conversations", {"body": ASK, "client_key": key()}
                )
                assert opened.status_code == 201, opened.text
                conv = opened.json()["conversation"]["id"]

                # Live across processes, both ways.
                await a_sock.wait_item(conv, is_message(ASK))
                await a_sock.send(
                    {
                        "type": "message.send",
                        "conversation_id": conv,
                        "body": "A partner can do that",
                        "client_key": key(),
                    }
                )
                await c_sock.wait_item(conv, is_message("A partner can do that"))

                # The agent on B offers partners; the customer on A asks one: a lead
                # whose e-mail is an outbox job.
                card = await agent.post(
                    f"/api/v1/conversations/{conv}/referrals",
                    {"kind": "partner", "specialization": "workflows"},
                )
                assert card.status_code == 201, card.text
                data = card.json()["data"]
                await c_sock.wait_item(conv, lambda i: i["kind"] == "card")
                lead = await client.post(
                    f"/api/v1/referrals/{data['referral_id']}/leads",
                    {"partner_id": data["partners"][0]["id"], "client_key": key()},
                )
                assert lead.status_code == 201, lead.text
                await c_sock.wait_item(
                    conv,
                    lambda i: i["kind"] == "card" and i["data"]["card"] == "lead_confirmation",
                )

                # The app processes only enqueued the mail: it waits for a worker ...
                jobs = await outbox_jobs(pg_database, data_dir)
                assert [(j.kind, j.status) for j in jobs] == [("mail", JobStatus.PENDING.value)]
                assert not inbox.messages

                # ... and the third process, `supportdesk worker`, sends it.
                worker = start_worker(
                    {**server_env(pg_database, data_dir), **mail_env}, tmp_path / "worker.log"
                )
                async with asyncio.timeout(SETTLED):
                    while not inbox.to("leads@sakura-solutions.example.com"):
                        await asyncio.sleep(0.1)
                jobs = await outbox_jobs(pg_database, data_dir)
                assert [(j.kind, j.status) for j in jobs] == [("mail", JobStatus.DONE.value)]
                assert jobs[0].attempts == 1

                # The conversation goes on live meanwhile.
                await c_sock.send(
                    {
                        "type": "message.send",
                        "conversation_id": conv,
                        "body": "Thanks, mail received?",
                        "client_key": key(),
                    }
                )
                await a_sock.wait_item(conv, is_message("Thanks, mail received?"))
        finally:
            if worker is not None:
                worker.terminate()  # graceful stop
                code = await asyncio.to_thread(worker.wait, 30)
        assert code == 0, (tmp_path / "worker.log").read_text()[-3000:]
        assert len(inbox.to("leads@sakura-solutions.example.com")) == 1


CLIENTS = 6
MESSAGES = 40  # per client
KILL_AFTER = 30  # accepted messages, in all, before process A is killed


async def test_an_app_process_killed_under_load_loses_and_duplicates_nothing(
    pg_database: str, redis: RedisServer, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    processes: list[AppProcess] = []
    async with app_processes(
        2, pg_database, data_dir, processes=processes, SUPPORTDESK_REDIS_URL=redis.url
    ) as (a, b):
        victim = processes[0]
        customers = [await customer(a, user=f"u{n}") for n in range(CLIENTS)]
        convs = []
        for n, c in enumerate(customers):
            opened = await c.post(
                "/api/v1/conversations", {"body": f"client {n} opens", "client_key": key()}
            )
            assert opened.status_code == 201, opened.text
            convs.append(opened.json()["conversation"]["id"])

        accepted: dict[str, str] = {}  # client_key -> body, answered 2xx
        seqs: dict[str, int] = {}  # client_key -> seq of the item A answered with
        failed: list[tuple[int, str, str]] = []  # (client, client_key, body) not answered 2xx
        enough = asyncio.Event()

        async def post_all(n: int) -> None:
            for m in range(MESSAGES):
                client_key, body = key(), f"client {n} message {m}"
                try:
                    response = await customers[n].post(
                        f"/api/v1/conversations/{convs[n]}/messages",
                        {"body": body, "client_key": client_key},
                    )
                except httpx.HTTPError:
                    failed.append((n, client_key, body))
                    continue
                if 200 <= response.status_code < 300:
                    accepted[client_key] = body
                    seqs[client_key] = response.json()["seq"]
                    if len(accepted) >= KILL_AFTER:
                        enough.set()
                else:
                    failed.append((n, client_key, body))

        async def kill_a() -> None:
            await enough.wait()
            victim.proc.kill()  # SIGKILL while requests are in flight

        await asyncio.gather(kill_a(), *(post_all(n) for n in range(CLIENTS)))
        assert victim.proc.wait(10) == -9
        assert failed  # the kill happened under load: some requests got no 2xx

        # Every request without a 2xx is retried on B with the SAME client key (a request
        # in flight when A died may have been stored: its retry must not store it again).
        on_b = [Actor(b, c.token, c.id, c.name) for c in customers]
        for n, client_key, body in failed:
            response = await on_b[n].post(
                f"/api/v1/conversations/{convs[n]}/messages",
                {"body": body, "client_key": client_key},
            )
            assert 200 <= response.status_code < 300, response.text
            accepted[client_key] = body
        assert len(accepted) == CLIENTS * MESSAGES
        # A client whose 2xx from A was lost on the way retries too: B answers with the
        # item A stored (docs/api.md "Idempotency": the original item, 201) and stores
        # nothing new.
        for client_key, seq in seqs.items():
            body = accepted[client_key]
            n = int(body.split()[1])
            response = await on_b[n].post(
                f"/api/v1/conversations/{convs[n]}/messages",
                {"body": body, "client_key": client_key},
            )
            assert response.status_code == 201, response.text
            assert response.json()["seq"] == seq

        svc = build_services(b.settings, bus=InProcessBus())
        try:
            async with svc.db.read() as session:
                rows = (
                    await session.execute(
                        select(TimelineItem.client_key, TimelineItem.body, func.count())
                        .where(TimelineItem.conversation_id.in_(convs))
                        .where(TimelineItem.client_key.in_(list(accepted)))
                        .group_by(TimelineItem.client_key, TimelineItem.body)
                    )
                ).all()
                bodies = list(
                    await session.scalars(
                        select(TimelineItem.body)
                        .where(TimelineItem.conversation_id.in_(convs))
                        .where(TimelineItem.kind == "message")
                    )
                )
        finally:
            await svc.db.dispose()
        # Every accepted (first try or retried) message is stored exactly once ...
        assert {k: (body, count) for k, body, count in rows} == {
            k: (body, 1) for k, body in accepted.items()
        }
        # ... and no body appears twice (a retry never made a second item).
        assert len(bodies) == len(set(bodies)) == CLIENTS * (MESSAGES + 1)
