"""Credential safety end to end, on a live server: every positive of the redaction corpus,
sent by a customer as a first message, over HTTP and over the WebSocket, reaches neither
the database (every column of the timeline and conversations, read with raw SQL), nor
any socket's frames, nor any server log line (captured at DEBUG, uvicorn's loggers and
the WebSocket protocol's frame log included). The ``secret_removed`` notice follows each
such message exactly once, also after retries. An agent's request for a password is
refused over HTTP and the socket, and nothing is stored."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text

from supportdesk.core.i18n import MESSAGES
from tests.factories import Live, Socket, key

CORPUS_PATH = Path(__file__).resolve().parent.parent / "data" / "redaction_corpus.jsonl"
CORPUS = [json.loads(line) for line in CORPUS_PATH.read_text(encoding="utf-8").splitlines()]
POSITIVES = [case for case in CORPUS if case["secrets"]]

# Loggers of the test's own clients, which of course see what they send.
CLIENT_LOGGERS = ("httpx", "httpcore", "websockets.client", "hpack")
# Everything the server process may log through; uvicorn's loggers do not propagate to
# the root, so the capturing handler is attached to them as well.
SERVER_LOGGERS = (
    "",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "uvicorn.asgi",
    "websockets",
    "supportdesk",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "aiosqlite",
    "asyncpg",
    "asyncio",
)
HANDLER_LOGGERS = ("", "uvicorn", "uvicorn.access")


def needles(case: dict[str, Any]) -> list[str]:
    """What must not appear anywhere: each secret, or for short ones (a PIN, a CVV) the
    secret with the words before it, so that a port number or a timing in a log line
    that happens to contain "4821" is not taken for a leak."""
    found = []
    for secret in case["secrets"]:
        if len(secret) >= 8:
            found.append(secret)
        else:
            at = case["text"].index(secret)
            found.append(case["text"][max(0, at - 8) : at + len(secret)])
    return found


ALL_NEEDLES = [needle for case in POSITIVES for needle in needles(case)]


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(CLIENT_LOGGERS):
            return
        line = record.getMessage()
        if record.exc_info:
            line += "\n" + "".join(traceback.format_exception(*record.exc_info))
        self.lines.append((record.name, line))


@contextmanager
def server_logs() -> Iterator[Capture]:
    """Every record the server writes, at DEBUG, for the duration of the block."""
    capture = Capture()
    levels = {name: logging.getLogger(name).level for name in SERVER_LOGGERS}
    for name in SERVER_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    for name in HANDLER_LOGGERS:
        logging.getLogger(name).addHandler(capture)
    try:
        yield capture
    finally:
        for name in HANDLER_LOGGERS:
            logging.getLogger(name).removeHandler(capture)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def leaks(haystack: str) -> list[str]:
    return [needle for needle in ALL_NEEDLES if needle in haystack]


async def stored_text(live: Live, tables: tuple[str, ...]) -> str:
    """Every value of every row of ``tables``, read with raw SQL."""
    parts: list[str] = []
    async with live.svc.db.read() as session:
        for table in tables:
            for row in await session.execute(text(f"SELECT * FROM {table}")):
                for value in row:
                    if isinstance(value, str):
                        parts.append(value)
                    elif isinstance(value, dict | list):
                        parts.append(json.dumps(value, ensure_ascii=False))
    return "\n".join(parts)


def frames_text(*sockets: Socket) -> str:
    return "\n".join(orjson.dumps(frame).decode() for sock in sockets for frame in sock.seen)


def notices_after(items: list[dict[str, Any]], seq: int) -> list[dict[str, Any]]:
    """The ``secret_removed`` items right after the item ``seq`` (0 or 1 of them)."""
    following = [item for item in items if item["seq"] == seq + 1]
    return [
        item
        for item in following
        if item["kind"] == "system" and (item["data"] or {}).get("event") == "secret_removed"
    ]


async def all_items(actor: Any, conv_id: int) -> list[dict[str, Any]]:
    response = await actor.get(f"/api/v1/conversations/{conv_id}/items", params={"limit": 1000})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


async def test_no_positive_reaches_the_database_the_stream_or_the_logs(live):
    agent = await live.agent("Aiko", ["customer_support"])
    customer = await live.customer()
    with server_logs() as logs:
        async with agent.socket() as agent_sock, customer.socket() as customer_sock:
            await agent_sock.send({"type": "subscribe", "scope": "visible"})
            await agent_sock.wait_for(lambda f: f["type"] == "subscribed")

            # 1. Every positive as the first message of a conversation (and its subject).
            opened: list[tuple[dict[str, Any], str, dict[str, Any]]] = []
            for case in POSITIVES:
                client_key = key()
                response = await customer.post(
                    "/api/v1/conversations", {"body": case["text"], "client_key": client_key}
                )
                assert response.status_code == 201, response.text
                opened.append((case, client_key, response.json()))

            # 2. Every positive as a later message, over HTTP and then over the socket.
            chat = await customer.post(
                "/api/v1/conversations", {"body": "Hello, a question", "client_key": key()}
            )
            conv_id = chat.json()["conversation"]["id"]
            posted: list[tuple[dict[str, Any], str, dict[str, Any]]] = []
            for case in POSITIVES:
                client_key = key()
                response = await customer.post(
                    f"/api/v1/conversations/{conv_id}/messages",
                    {"body": case["text"], "client_key": client_key},
                )
                assert response.status_code == 201, response.text
                posted.append((case, client_key, response.json()))
            for case in POSITIVES:
                client_key = key()
                await customer_sock.send(
                    {
                        "type": "message.send",
                        "conversation_id": conv_id,
                        "body": case["text"],
                        "client_key": client_key,
                    }
                )
                ack = await customer_sock.wait_for(
                    lambda f, k=client_key: (
                        f["type"] in ("ack", "error") and f.get("client_key") == k
                    )
                )
                assert ack["type"] == "ack", ack
                posted.append((case, client_key, ack["item"]))

            # 3. Retries: the same client keys again, over both transports.
            for case, client_key, first in opened[:3]:
                again = await customer.post(
                    "/api/v1/conversations", {"body": case["text"], "client_key": client_key}
                )
                assert again.status_code == 200
                assert again.json()["item"]["seq"] == first["item"]["seq"]
            for case, client_key, item in posted[:3]:
                again = await customer.post(
                    f"/api/v1/conversations/{conv_id}/messages",
                    {"body": case["text"], "client_key": client_key},
                )
                assert again.status_code == 201 and again.json()["seq"] == item["seq"]
            for case, client_key, item in posted[-3:]:
                await customer_sock.send(
                    {
                        "type": "message.send",
                        "conversation_id": conv_id,
                        "body": case["text"],
                        "client_key": client_key,
                    }
                )
                ack = await customer_sock.wait_for(
                    lambda f, k=client_key: f["type"] == "ack" and f["client_key"] == k
                )
                assert ack["item"]["seq"] == item["seq"]

            # 4. Bad input that carries a secret is refused without echoing it.
            secret_text = POSITIVES[0]["text"]
            bad = await customer.post(
                f"/api/v1/conversations/{conv_id}/messages",
                {"body": [secret_text], "client_key": key()},
            )
            assert bad.status_code == 422 and not leaks(bad.text)
            await customer_sock.send({"type": secret_text})
            error = await customer_sock.wait_for(lambda f: f["type"] == "error")
            assert error["code"] == "invalid_frame"

            # The agent's socket has everything once it has the last item of each chat.
            expected_last = {
                result["conversation"]["id"]: result["item"]["seq"] + 1 for _, _, result in opened
            }
            expected_last[conv_id] = max(item["seq"] for _, _, item in posted) + 1
            seen_last: dict[int, int] = {}

            def caught_up(frame: dict[str, Any]) -> bool:
                if frame["type"] == "item":
                    cid = frame["conversation_id"]
                    seen_last[cid] = max(seen_last.get(cid, 0), frame["item"]["seq"])
                return all(seen_last.get(cid, 0) >= seq for cid, seq in expected_last.items())

            await agent_sock.wait_for(caught_up, timeout=30)

    # The stream: nothing in any frame of either socket, and the placeholders did travel.
    stream = frames_text(agent_sock, customer_sock)
    assert not leaks(stream)
    assert "[password removed]" in stream and "[card number removed]" in stream

    # The database: every column of every row of the timeline and the conversations.
    stored = await stored_text(live, ("timeline_items", "conversations"))
    assert not leaks(stored)
    assert "[private key removed]" in stored

    # The logs: nothing anywhere, although the capture really saw the traffic (access
    # lines, the WebSocket protocol's frame log) at DEBUG.
    logged = "\n".join(line for _, line in logs.lines)
    assert not leaks(logged)
    assert any(
        name == "uvicorn.access" and "/api/v1/conversations" in line for name, line in logs.lines
    )
    assert any(name == "uvicorn.error" and "< TEXT [" in line for name, line in logs.lines)

    # The notice: right after each message that had a secret, with its kinds, once.
    for case, _, result in opened:
        items = await all_items(customer, result["conversation"]["id"])
        assert [item["kind"] for item in items[:2]] == ["message", "system"]
        assert not leaks(items[0]["body"])
        assert items[1]["data"] == {"event": "secret_removed", "kinds": case["kinds"]}
        assert (
            sum(
                1
                for item in items
                if item["kind"] == "system" and item["data"].get("event") == "secret_removed"
            )
            == 1
        )
    items = await all_items(customer, conv_id)
    for case, _, item in posted:
        notices = notices_after(items, item["seq"])
        assert len(notices) == 1, (case["text"], item)
        assert notices[0]["data"]["kinds"] == case["kinds"]
    removed = [
        item
        for item in items
        if item["kind"] == "system" and item["data"]["event"] == "secret_removed"
    ]
    assert len(removed) == len(posted)  # the retries added none


async def test_an_agent_asking_for_a_password_is_refused_and_nothing_is_stored(live):
    agent = await live.agent("Aiko", ["customer_support"])
    customer = await live.customer()
    opened = await customer.post(
        "/api/v1/conversations", {"body": "I cannot sign in", "client_key": key()}
    )
    conv_id = opened.json()["conversation"]["id"]
    assert opened.json()["conversation"]["assigned_agent"]["id"] == agent.id
    asks = ["パスワードを教えてください", "Could you send me your password?"]
    code = "staff_may_not_ask_for_credentials"

    for body in asks:
        refused = await agent.post(
            f"/api/v1/conversations/{conv_id}/messages", {"body": body, "client_key": key()}
        )
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["code"] == code
        assert error["message"] in (MESSAGES[code]["en"], MESSAGES[code]["ja"])

    async with agent.socket() as sock:
        await sock.send(
            {
                "type": "message.send",
                "conversation_id": conv_id,
                "body": "What is your password?",
                "client_key": "ask-1",
            }
        )
        error = await sock.wait_for(lambda f: f["type"] == "error")
        assert (error["code"], error["client_key"]) == (code, "ask-1")

    # The policy replies that say we never ask pass, read from the database as seeded.
    async with live.svc.db.read() as session:
        policy = (
            await session.execute(
                text("SELECT locale, body FROM saved_replies WHERE shortcut = 'password'")
            )
        ).all()
    assert {locale for locale, _ in policy} == {"en", "ja"}
    for _, body in policy:
        sent = await agent.post(
            f"/api/v1/conversations/{conv_id}/messages", {"body": body, "client_key": key()}
        )
        assert sent.status_code == 201, sent.text
    # An internal note is between staff: the guard is about what the customer is asked.
    note = await agent.post(
        f"/api/v1/conversations/{conv_id}/messages",
        {"body": asks[1], "client_key": key(), "internal": True},
    )
    assert note.status_code == 201

    items = await all_items(customer, conv_id)
    bodies = [item["body"] for item in items if item["kind"] == "message"]
    assert bodies[0] == "I cannot sign in"
    assert sorted(bodies[1:]) == sorted(body for _, body in policy)
    async with live.svc.db.read() as session:
        stored = (
            await session.execute(
                text("SELECT body FROM timeline_items WHERE conversation_id = :id"),
                {"id": conv_id},
            )
        ).scalars()
        assert "What is your password?" not in set(stored)


async def test_a_rating_comment_is_redacted_too(live):
    agent = await live.agent("Aiko", ["customer_support"])
    customer = await live.customer()
    opened = await customer.post("/api/v1/conversations", {"body": "Hi", "client_key": key()})
    conv_id = opened.json()["conversation"]["id"]
    assert (await agent.post(f"/api/v1/conversations/{conv_id}/resolve")).status_code == 200

    rated = await customer.post(
        f"/api/v1/conversations/{conv_id}/rating",
        {"score": 5, "comment": "Great, my password is Sunflower88 btw"},
    )

    assert rated.status_code == 201
    assert rated.json()["comment"] == "Great, my password is [password removed] btw"
    assert "Sunflower88" not in await stored_text(live, ("ratings",))
