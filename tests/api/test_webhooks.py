"""Outbound webhooks over HTTP, on the database under test, against a real receiver the
test runs on loopback: admin CRUD (the secret shown once), events fanned out to the
active endpoints that want them in the caller's transaction, a signed delivery retried
after a 500 with both attempts in the log, the SSRF guard at save time (without the
allow-list) and again at delivery time, and the connection pinned to the checked
address with the original Host header."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from supportdesk.audit.models import AuditEntry
from supportdesk.core.outbox import JobStatus, OutboxJob
from supportdesk.webhooks import guard
from supportdesk.webhooks.actions import enqueue_webhook_event
from tests.factories import Actor, Live, start_live
from tests.servers import free_port

ADMIN = "/api/v1/admin/webhooks"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    """A webhook receiver on loopback: answers each request with the next scripted
    status (the last one repeats) and keeps what it got."""

    port: int = 0
    statuses: list[int] = field(default_factory=lambda: [200])
    got: list[Received] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        query = scope["query_string"].decode()
        self.got.append(
            Received(
                path=scope["path"] + (f"?{query}" if query else ""),
                headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
                body=body.decode(),
            )
        )
        status = self.statuses[min(len(self.got), len(self.statuses)) - 1]
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok" if status < 300 else b"no"})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@asynccontextmanager
async def run_receiver(tls: tuple[Path, Path] | None = None) -> AsyncIterator[Receiver]:
    """A receiver on loopback; ``tls`` = (certificate, key) files serve it over https."""
    hook = Receiver(port=free_port())
    files = {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])} if tls else {}
    config = uvicorn.Config(hook, host="127.0.0.1", port=hook.port, log_level="warning", **files)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(20):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    try:
        yield hook
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with run_receiver() as hook:
        yield hook


@pytest.fixture
async def hooked(database_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    """A live server whose allow-list admits the loopback receiver."""
    async with start_live(
        database_url,
        tmp_path,
        webhook_allow="127.0.0.1",
        outbox_retry_seconds=0.2,
        outbox_poll_seconds=0.1,  # retries are picked up by the runner's poll
    ) as server:
        yield server


def code(response) -> str:
    return response.json()["error"]["code"]


async def admin(live: Live) -> Actor:
    return await live.agent("Ada", ["admin"], online=False)


async def until(check: Callable[[], Any], timeout: float = 20) -> Any:
    async with asyncio.timeout(timeout):
        while not (result := await check()):
            await asyncio.sleep(0.05)
    return result


async def fire(live: Live, event: str, payload: dict[str, Any]) -> None:
    async with live.svc.db.write() as session:
        await enqueue_webhook_event(session, event, payload)


async def webhook_jobs(live: Live) -> list[OutboxJob]:
    async with live.svc.db.read() as session:
        query = select(OutboxJob).where(OutboxJob.kind == "webhook").order_by(OutboxJob.id)
        return list(await session.scalars(query))


def expected_signature(secret: str, timestamp: str, body: str) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


async def test_a_delivery_is_signed_retried_after_a_500_and_every_attempt_logged(
    hooked: Live, receiver: Receiver
):
    receiver.statuses = [500, 200]
    ada = await admin(hooked)
    created = await ada.post(
        ADMIN,
        {"url": f"{receiver.url}/hooks/in?src=sd", "events": ["request.status_changed"]},
    )
    assert created.status_code == 201, created.text
    endpoint = created.json()
    secret = endpoint["secret"]
    assert secret.startswith("whsec_") and endpoint["active"] is True
    # Shown once: neither the list nor the endpoint itself gives it again.
    listed = (await ada.get(ADMIN)).json()
    assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]
    assert "secret" not in (await ada.get(f"{ADMIN}/{endpoint['id']}")).json()

    payload = {"request": "REQ-1042", "title": "Export Gantt to PDF", "status": "in_progress"}
    await fire(hooked, "request.status_changed", payload)

    log_path = f"{ADMIN}/{endpoint['id']}/deliveries"

    async def two_attempts() -> list[dict] | None:
        rows = (await ada.get(log_path)).json()
        return rows if len(rows) == 2 else None

    newest, first = await until(two_attempts)
    assert (first["attempt"], first["status_code"], first["delivered"]) == (1, 500, False)
    assert (newest["attempt"], newest["status_code"], newest["delivered"]) == (2, 200, True)
    assert first["delivery_id"] == newest["delivery_id"] and first["error"] is None
    assert first["event"] == "request.status_changed" and first["address"] == "127.0.0.1"

    # The receiver got the same event twice, each time correctly signed.
    assert len(receiver.got) == 2
    for request in receiver.got:
        assert request.path == "/hooks/in?src=sd"
        assert request.headers["host"] == f"127.0.0.1:{receiver.port}"
        assert request.headers["content-type"].startswith("application/json")
        assert request.headers["x-supportdesk-event"] == "request.status_changed"
        assert request.headers["x-supportdesk-delivery"] == first["delivery_id"]
        signature = dict(
            part.split("=", 1) for part in request.headers["x-supportdesk-signature"].split(",")
        )
        assert signature["v1"] == expected_signature(secret, signature["t"], request.body)
        assert signature["v1"] != expected_signature("whsec_wrong", signature["t"], request.body)
        document = json.loads(request.body)
        assert document["id"] == first["delivery_id"]
        assert document["event"] == "request.status_changed" and document["data"] == payload
    assert receiver.got[0].body == receiver.got[1].body

    [job] = await until(lambda: _settled(hooked))
    assert job.status == JobStatus.DONE.value and job.attempts == 2


async def _settled(live: Live) -> list[OutboxJob] | None:
    jobs = await webhook_jobs(live)
    return jobs if jobs and all(j.status != JobStatus.PENDING.value for j in jobs) else None


async def test_events_reach_only_the_active_endpoints_that_want_them(
    hooked: Live, receiver: Receiver
):
    ada = await admin(hooked)

    async def make(events: list[str], active: bool = True) -> int:
        response = await ada.post(
            ADMIN, {"url": f"{receiver.url}/e", "events": events, "active": active}
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    created_only = await make(["request.created"])
    status_only = await make(["request.status_changed", "request.title_changed"])
    await make(["request.created", "request.status_changed"], active=False)

    await fire(hooked, "request.created", {"request": "REQ-1001"})
    jobs = await webhook_jobs(hooked)
    assert [j.payload["endpoint_id"] for j in jobs] == [created_only]

    await fire(hooked, "request.title_changed", {"request": "REQ-1001"})
    jobs = await webhook_jobs(hooked)
    assert [j.payload["endpoint_id"] for j in jobs] == [created_only, status_only]

    # Same transaction as the change: a change that rolls back sends nothing.
    with pytest.raises(RuntimeError):
        async with hooked.svc.db.write() as session:
            await enqueue_webhook_event(session, "request.created", {"request": "REQ-1002"})
            raise RuntimeError("the change failed")
    assert len(await webhook_jobs(hooked)) == 2
    with pytest.raises(ValueError, match="unknown webhook event"):
        await fire(hooked, "request.deleted", {})

    await until(lambda: _settled(hooked))
    assert sorted(r.headers["x-supportdesk-event"] for r in receiver.got) == [
        "request.created",
        "request.title_changed",
    ]


async def test_without_the_allow_list_private_targets_are_refused_at_save_time(
    live: Live, receiver: Receiver
):
    ada = await admin(live)
    for url in (
        f"{receiver.url}/hook",  # the running loopback receiver
        f"http://localhost:{receiver.port}/hook",  # a name that resolves to 127.0.0.1
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ):
        refused = await ada.post(ADMIN, {"url": url, "events": ["request.created"]})
        assert refused.status_code == 422, (url, refused.text)
        assert code(refused) == "webhook_target_forbidden", url
    metadata = await ada.post(
        ADMIN, {"url": "http://169.254.169.254/", "events": ["request.created"]}
    )
    assert "169.254.169.254" in metadata.json()["error"]["message"]  # says which address

    bad_url = await ada.post(ADMIN, {"url": "ftp://example.com/", "events": ["request.created"]})
    assert bad_url.status_code == 422 and code(bad_url) == "webhook_url_invalid"
    bad_events = await ada.post(ADMIN, {"url": "https://93.184.216.34/", "events": ["x.y"]})
    assert bad_events.status_code == 422 and code(bad_events) == "webhook_events_invalid"
    assert (await ada.get(ADMIN)).json() == []
    assert receiver.got == []


async def test_the_guard_runs_again_at_delivery_time(
    database_url: str, tmp_path: Path, receiver: Receiver
):
    async with start_live(
        database_url,
        tmp_path,
        webhook_allow="127.0.0.1",
        outbox_retry_seconds=0.1,
        outbox_poll_seconds=0.1,
        outbox_max_attempts=2,
    ) as live:
        ada = await admin(live)
        created = await ada.post(ADMIN, {"url": f"{receiver.url}/h", "events": ["request.created"]})
        assert created.status_code == 201, created.text
        endpoint_id = created.json()["id"]
        # The operator withdraws the allow-list entry: queued and future deliveries stop.
        live.settings.webhook_allow = ""
        ping = await ada.post(f"{ADMIN}/{endpoint_id}/ping")
        assert ping.status_code == 202
        [job] = await until(lambda: _settled(live))
        assert job.status == JobStatus.FAILED.value and job.attempts == 2
        rows = (await ada.get(f"{ADMIN}/{endpoint_id}/deliveries")).json()
        assert [r["attempt"] for r in rows] == [2, 1]
        for row in rows:
            assert row["delivery_id"] == ping.json()["delivery_id"]
            assert row["status_code"] is None and row["delivered"] is False
            assert row["error"].startswith("webhook_target_forbidden")
        assert receiver.got == []


async def test_the_connection_goes_to_the_checked_address_with_the_host_name_kept(
    hooked: Live, receiver: Receiver, monkeypatch
):
    """DNS rebinding: the name is resolved once, by the guard, and the request is sent
    to that address. ``hooks.rebind.test`` exists only in the guard's answer here, so
    the delivery can only succeed if the connection uses the checked address."""
    resolved: list[str] = []
    real_resolve = guard.resolve

    async def fake_resolve(host: str, port: int):
        if host == "hooks.rebind.test":
            resolved.append(host)
            return [guard.literal_address("127.0.0.1")]
        return await real_resolve(host, port)

    monkeypatch.setattr(guard, "resolve", fake_resolve)
    ada = await admin(hooked)
    created = await ada.post(
        ADMIN,
        {"url": f"http://hooks.rebind.test:{receiver.port}/in", "events": ["request.created"]},
    )
    assert created.status_code == 201, created.text
    await fire(hooked, "request.created", {"request": "REQ-1001"})
    [job] = await until(lambda: _settled(hooked))
    assert job.status == JobStatus.DONE.value
    [request] = receiver.got
    assert request.headers["host"] == f"hooks.rebind.test:{receiver.port}"
    assert resolved == ["hooks.rebind.test", "hooks.rebind.test"]  # at save, at delivery


async def test_admins_update_and_delete_and_others_may_not(hooked: Live, receiver: Receiver):
    ada = await admin(hooked)
    agent = await hooked.agent("Bob", ["technical_support"], online=False)
    assert (await agent.get(ADMIN)).status_code == 403
    denied = await agent.post(ADMIN, {"url": f"{receiver.url}/x", "events": ["request.created"]})
    assert denied.status_code == 403

    created = (
        await ada.post(ADMIN, {"url": f"{receiver.url}/a", "events": ["request.created"]})
    ).json()
    path = f"{ADMIN}/{created['id']}"
    assert (await agent.get(f"{path}/deliveries")).status_code == 403

    changed = await hooked.http.patch(
        path,
        json={"events": ["request.title_changed"], "active": False, "description": "Tracker"},
        headers=ada.headers,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["events"] == ["request.title_changed"] and body["active"] is False
    assert body["description"] == "Tracker" and body["url"] == f"{receiver.url}/a"

    # A new URL passes the guard again; a refused one changes nothing.
    refused = await hooked.http.patch(
        path, json={"url": "http://169.254.169.254/"}, headers=ada.headers
    )
    assert refused.status_code == 422 and code(refused) == "webhook_target_forbidden"
    moved = await hooked.http.patch(path, json={"url": f"{receiver.url}/b"}, headers=ada.headers)
    assert moved.status_code == 200 and moved.json()["url"] == f"{receiver.url}/b"

    # Switching it on checks the target too.
    hooked.settings.webhook_allow = ""
    on = await hooked.http.patch(path, json={"active": True}, headers=ada.headers)
    assert on.status_code == 422 and code(on) == "webhook_target_forbidden"
    hooked.settings.webhook_allow = "127.0.0.1"
    on = await hooked.http.patch(path, json={"active": True}, headers=ada.headers)
    assert on.status_code == 200 and on.json()["active"] is True

    assert (await hooked.http.delete(path, headers=agent.headers)).status_code == 403
    assert (await hooked.http.delete(path, headers=ada.headers)).status_code == 204
    assert (await ada.get(path)).status_code == 404
    assert (await ada.get(f"{path}/deliveries")).status_code == 404
    assert (await hooked.http.delete(path, headers=ada.headers)).status_code == 404
    assert (await ada.get(ADMIN)).json() == []

    async with hooked.svc.db.read() as session:
        entries = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.subject_type == "webhook"))
        )
    assert [e.action for e in entries] == [
        "webhook.created",
        "webhook.updated",
        "webhook.updated",
        "webhook.updated",
        "webhook.deleted",
    ]
    assert all(created["secret"] not in json.dumps(e.data) for e in entries)


def _certificate(
    subject: str, issuer_key: Any, issuer: str, key: Any, *, ca: bool, names: list[str]
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def make_tls(directory: Path, name: str) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for ``name`` (no IP address in it):
    (CA file, certificate file, key file)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Test CA", ca_key, "Test CA", ca_key, ca=True, names=[])
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate(name, ca_key, "Test CA", key, ca=False, names=[name])
    pem = serialization.Encoding.PEM
    files = (directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files[0].write_bytes(ca.public_bytes(pem))
    files[1].write_bytes(cert.public_bytes(pem))
    files[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return files


async def test_https_to_the_pinned_address_keeps_the_server_name_and_verifies_it(
    database_url: str, tmp_path: Path, monkeypatch
):
    """The certificate names only ``hooks.rebind.test``: the TLS handshake with the
    pinned 127.0.0.1 succeeds only if the name is sent (SNI) and verified, and a
    certificate for another name is refused."""

    async def fake_resolve(host: str, port: int):
        return [guard.literal_address("127.0.0.1")]

    monkeypatch.setattr(guard, "resolve", fake_resolve)
    ca_file, cert_file, key_file = make_tls(tmp_path, "hooks.rebind.test")
    async with (
        run_receiver((cert_file, key_file)) as tls_receiver,
        start_live(
            database_url,
            tmp_path,
            webhook_allow="127.0.0.1",
            webhook_ca_file=str(ca_file),
            outbox_retry_seconds=0.1,
            outbox_poll_seconds=0.1,
            outbox_max_attempts=1,
        ) as live,
    ):
        ada = await admin(live)
        for name in ("hooks.rebind.test", "other.rebind.test"):
            url = f"https://{name}:{tls_receiver.port}/in"
            created = await ada.post(ADMIN, {"url": url, "events": ["request.created"]})
            assert created.status_code == 201, created.text
        await fire(live, "request.created", {"request": "REQ-1001"})
        good, bad = await until(lambda: _settled(live))
        assert good.status == JobStatus.DONE.value
        assert bad.status == JobStatus.FAILED.value and "ConnectError" in (bad.last_error or "")
        [request] = tls_receiver.got
        assert request.headers["host"] == f"hooks.rebind.test:{tls_receiver.port}"
