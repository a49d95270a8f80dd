"""Wishes, topics, development requests and same-chat notifications over HTTP, on the
database under test.

Three portals ask for the same thing in different words; the similarity suggestions
find the topic, mentions count portals (not wishes) and the ranking follows. Accepting
the topic creates REQ-1001 and every linked conversation (a resolved one too) gets the
item, live on a connected socket; each later change adds exactly one item per chat, a
retried call none; an unread item is e-mailed once to a real SMTP server; merges keep
every link; customers never see the internal discussion; only the product role moves
topics and requests, and the integration token can only set request statuses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from supportdesk.audit.models import AuditEntry
from supportdesk.core.clock import utcnow
from supportdesk.core.outbox import JobStatus, OutboxJob
from supportdesk.identity.tokens import mint_identity_token
from supportdesk.product import actions
from supportdesk.product.models import RequestNotice
from tests.factories import Actor, Live, key, start_live
from tests.mail import Inbox, smtp_server

GANTT = {
    "title": "Export Gantt chart to PDF",
    "description": "ガントチャートをPDFで出力したい",
}
PARAPHRASES = [
    "Could we export the Gantt chart as a PDF file? Our boss wants it printed.",
    "ガントチャートをPDFで保存できるようにしてほしいです",
    "Is there a way to get the gantt view out as pdf?",
]


def code(response: Any) -> str:
    return response.json()["error"]["code"]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def desk(database_url: str, tmp_path: Path, smtp) -> AsyncIterator[Live]:
    _inbox, port = smtp
    async with start_live(
        database_url,
        tmp_path,
        smtp_url=f"smtp://127.0.0.1:{port}",
        mail_from="support@desk.example.com",
        outbox_retry_seconds=0.2,
        outbox_poll_seconds=0.1,
        notify_email_after_seconds=60,
    ) as server:
        yield server


async def customer(live: Live, portal: str, locale: str = "en", email: str = "") -> Actor:
    token = mint_identity_token(
        live.settings,
        portal=portal,
        user="owner",
        role="admin",
        plan="professional",
        locale=locale,
        email=email,
        now=utcnow(),
    )
    actor = Actor(live, token)
    me = (await actor.get("/api/v1/me")).json()
    actor.id, actor.name = me["id"], me["name"]
    return actor


async def open_chat(who: Actor, text: str) -> int:
    opened = await who.post("/api/v1/conversations", {"body": text, "client_key": key()})
    assert opened.status_code == 201, opened.text
    return int(opened.json()["conversation"]["id"])


async def wish(agent: Actor, conv_id: int, quote: str, **topic: Any) -> dict[str, Any]:
    response = await agent.post(
        f"/api/v1/conversations/{conv_id}/wishes", {"quote": quote, **topic}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def notices_settled(live: Live) -> None:
    """Wait until every chat-item job has run (the delayed e-mail checks may wait on)."""
    async with asyncio.timeout(30):
        while True:
            async with live.svc.db.read() as session:
                pending = await session.scalar(
                    select(func.count())
                    .select_from(OutboxJob)
                    .where(
                        OutboxJob.status == JobStatus.PENDING.value,
                        OutboxJob.kind == actions.NOTICE_KIND,
                    )
                )
            if not pending:
                return
            await asyncio.sleep(0.05)


async def request_items(who: Actor, conv_id: int) -> list[dict[str, Any]]:
    items = (await who.get(f"/api/v1/conversations/{conv_id}/items")).json()
    return [i for i in items if (i.get("data") or {}).get("system") == "request_update"]


async def integration_token(admin: Actor) -> str:
    response = await admin.post("/api/v1/admin/integration-tokens", {"name": "Tracker"})
    assert response.status_code == 201, response.text
    token = response.json()["token"]
    assert token.startswith("sdi_")
    return str(token)


async def put_status(live: Live, token: str, number: str, status: str) -> Any:
    return await live.http.put(
        f"/api/v1/requests/{number}/status",
        json={"status": status},
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_three_portals_rank_first_and_every_chat_hears_every_change(desk: Live):
    aiko = await desk.agent("Aiko", ["customer_support"], max_chats=10)
    pia = await desk.agent("Pia", ["product"])
    admin = await desk.agent("Ada", ["admin"], online=False)
    customers = [
        await customer(desk, "p1"),
        await customer(desk, "p2", locale="ja"),
        await customer(desk, "p3"),
    ]
    convs = [await open_chat(c, text) for c, text in zip(customers, PARAPHRASES, strict=True)]

    # The first wish makes the topic; the next two find it through the suggestions.
    first = await wish(aiko, convs[0], PARAPHRASES[0], new_topic=GANTT)
    topic_id = first["topic_id"]
    for conv_id, text in zip(convs[1:], PARAPHRASES[1:], strict=True):
        similar = (await aiko.get("/api/v1/topics/similar", params={"text": text})).json()
        assert topic_id in [t["id"] for t in similar[:3]], (text, similar)
        await wish(aiko, conv_id, text, topic_id=topic_id)

    # Another topic: five wishes, but four of them from one portal.
    busy = await customer(desk, "p4")
    other = await customer(desk, "p5")
    busy_conv = await open_chat(busy, "Please add a dark mode.")
    dark = await wish(
        aiko, busy_conv, "dark mode please", new_topic={"title": "Dark mode", "description": ""}
    )
    for n in range(3):
        await wish(aiko, busy_conv, f"dark mode, again ({n})", topic_id=dark["topic_id"])
    await wish(aiko, await open_chat(other, "Dark mode?"), "dark", topic_id=dark["topic_id"])

    board = (await pia.get("/api/v1/topics", params={"sort": "score"})).json()
    assert [t["id"] for t in board] == [topic_id, dark["topic_id"]]
    assert (board[0]["mentions"], board[0]["links"]) == (3, 3)
    assert (board[1]["mentions"], board[1]["links"]) == (2, 5)
    assert board[0]["score"] > board[1]["score"]

    # One of the three conversations is resolved before the request exists.
    assert (await aiko.post(f"/api/v1/conversations/{convs[2]}/resolve")).status_code == 200

    async with customers[0].socket() as sock0, customers[2].socket() as sock2:
        moved = await pia.post(f"/api/v1/topics/{topic_id}/state", {"state": "under_discussion"})
        assert moved.status_code == 200, moved.text
        accepted = await pia.post(
            f"/api/v1/topics/{topic_id}/state", {"state": "accepted", "complexity": "M"}
        )
        assert accepted.status_code == 200, accepted.text
        number = accepted.json()["request"]
        assert number == "REQ-1001"
        for sock, conv_id in ((sock0, convs[0]), (sock2, convs[2])):
            item = await sock.wait_item(
                conv_id, lambda i: (i.get("data") or {}).get("system") == "request_update"
            )
            assert item["kind"] == "system"
            assert item["data"]["request"] == "REQ-1001"
            assert item["data"]["status"] == "queued"
            assert item["data"]["title"] == GANTT["title"]
            assert "REQ-1001" in item["data"]["text"]["en"]
            assert "REQ-1001" in item["data"]["text"]["ja"]

        # Two changes: one by the product manager, one by the tracker's token.
        changed = await pia.post(
            f"/api/v1/requests/{number}/status", {"status": "in_progress", "client_key": "k1"}
        )
        assert changed.status_code == 200 and changed.json()["changed"] is True
        token = await integration_token(admin)
        fixed = await put_status(desk, token, number, "fixed")
        assert fixed.status_code == 200, fixed.text
        assert fixed.json()["changed"] is True
        # Retries: the same client_key, and the current status again.
        again = await pia.post(
            f"/api/v1/requests/{number}/status", {"status": "in_progress", "client_key": "k1"}
        )
        assert again.status_code == 200 and again.json()["changed"] is False
        assert (await put_status(desk, token, number, "fixed")).json()["changed"] is False

        for sock, conv_id in ((sock0, convs[0]), (sock2, convs[2])):
            await sock.wait_item(conv_id, lambda i: (i.get("data") or {}).get("status") == "fixed")
        await notices_settled(desk)

    for who, conv_id in zip(customers, convs, strict=True):
        items = await request_items(who, conv_id)
        assert [i["data"]["status"] for i in items] == ["queued", "in_progress", "fixed"]
    assert "開発中" in (await request_items(customers[1], convs[1]))[1]["data"]["text"]["ja"]
    # The conversations of the other topic heard nothing.
    assert await request_items(busy, busy_conv) == []

    # A job that runs again (at-least-once outbox) posts nothing more.
    async with desk.svc.db.read() as session:
        notice_ids = list(await session.scalars(select(RequestNotice.id)))
    assert len(notice_ids) == 9  # 3 changes x 3 conversations
    for notice_id in notice_ids:
        await actions._post_notice(desk.svc, {"notice_id": notice_id})
    assert len(await request_items(customers[0], convs[0])) == 3

    # The customers' "My requests": the status history, no dates promised.
    mine = (await customers[1].get("/api/v1/my/requests")).json()
    assert [r["number"] for r in mine["requests"]] == ["REQ-1001"]
    assert [h["status"] for h in mine["requests"][0]["history"]] == [
        "queued",
        "in_progress",
        "fixed",
    ]
    assert mine["requests"][0]["status_name"] == "修正済み"
    assert "期日" in mine["no_deadline"]
    assert (await busy.get("/api/v1/my/requests")).json()["requests"] == []

    # A title change is a change too.
    renamed = await desk.http.patch(
        f"/api/v1/requests/{number}", json={"title": "PDF export of Gantt"}, headers=pia.headers
    )
    assert renamed.status_code == 200, renamed.text
    await notices_settled(desk)
    last = (await request_items(customers[0], convs[0]))[-1]
    assert (last["data"]["change"], last["data"]["title"]) == ("title", "PDF export of Gantt")


async def test_an_unread_notice_is_emailed_once(desk: Live, smtp):
    inbox, _port = smtp
    aiko = await desk.agent("Aiko", ["customer_support"], max_chats=10)
    pia = await desk.agent("Pia", ["product"])
    reader = await customer(desk, "p1", email="reader@example.com")
    away = await customer(desk, "p2", locale="ja", email="away@example.com")
    reader_conv = await open_chat(reader, PARAPHRASES[0])
    away_conv = await open_chat(away, PARAPHRASES[1])
    topic_id = (await wish(aiko, reader_conv, "pdf", new_topic=GANTT))["topic_id"]
    await wish(aiko, away_conv, "pdf", topic_id=topic_id)
    await pia.post(f"/api/v1/topics/{topic_id}/state", {"state": "under_discussion"})
    accepted = await pia.post(f"/api/v1/topics/{topic_id}/state", {"state": "accepted"})
    assert accepted.json()["request"] == "REQ-1001"
    await notices_settled(desk)

    # One customer reads the item in the widget; the other does not.
    item = (await request_items(reader, reader_conv))[0]
    read = await reader.post(f"/api/v1/conversations/{reader_conv}/read", {"seq": item["seq"]})
    assert read.status_code == 200 and read.json()["last_read_seq"] == item["seq"]

    # The e-mail checks are due after SUPPORTDESK_NOTIFY_EMAIL_AFTER_SECONDS: move on.
    desk.svc.clock = lambda: utcnow() + timedelta(seconds=120)
    desk.svc.outbox_runner.wake()
    async with asyncio.timeout(30):
        while not inbox.to("away@example.com"):
            await asyncio.sleep(0.05)
    async with asyncio.timeout(30):
        while True:
            async with desk.svc.db.read() as session:
                pending = await session.scalar(
                    select(func.count())
                    .select_from(OutboxJob)
                    .where(OutboxJob.status == JobStatus.PENDING.value)
                )
            if not pending:
                break
            await asyncio.sleep(0.05)

    # Running the e-mail checks again (a retried job) sends nothing more.
    async with desk.svc.db.read() as session:
        notice_ids = list(await session.scalars(select(RequestNotice.id)))
    for notice_id in notice_ids:
        await actions._email_if_unread(desk.svc, {"notice_id": notice_id})
    await desk.svc.outbox_runner.run_due()

    mails = inbox.to("away@example.com")
    assert len(mails) == 1
    assert "REQ-1001" in str(mails[0]["Subject"])
    assert "REQ-1001" in mails[0].get_content()
    assert mails[0]["Content-Language"] == "ja"
    assert inbox.to("reader@example.com") == []


async def test_merge_and_unmerge_keep_every_link_and_count_each_portal_once(desk: Live):
    aiko = await desk.agent("Aiko", ["customer_support"], max_chats=10)
    pia = await desk.agent("Pia", ["product"])
    p1, p2, p3 = [await customer(desk, p) for p in ("p1", "p2", "p3")]
    c1, c2a, c2b, c3 = [
        await open_chat(who, text) for who, text in ((p1, "a"), (p2, "b"), (p2, "c"), (p3, "d"))
    ]
    first = (await wish(aiko, c1, "pdf export", new_topic=GANTT))["topic_id"]
    await wish(aiko, c2a, "pdf", topic_id=first)
    second = (
        await wish(
            aiko,
            c2b,
            "print gantt",
            new_topic={"title": "Print the Gantt chart", "description": ""},
        )
    )["topic_id"]
    await wish(aiko, c3, "print", topic_id=second)

    async def board() -> dict[int, dict[str, Any]]:
        return {t["id"]: t for t in (await pia.get("/api/v1/topics")).json()}

    before = await board()
    assert (before[first]["mentions"], before[second]["mentions"]) == (2, 2)

    merged = await pia.post(f"/api/v1/topics/{second}/merge", {"into": first})
    assert merged.status_code == 200, merged.text
    after = await board()
    assert second not in after  # it counts toward the first now
    assert (after[first]["mentions"], after[first]["links"]) == (3, 4)  # p2 once
    assert after[first]["merged_topic_ids"] == [second]
    detail = (await pia.get(f"/api/v1/topics/{first}")).json()
    assert sorted(link["conversation_id"] for link in detail["links"]) == sorted([c1, c2a, c2b, c3])
    merged_view = (await pia.get(f"/api/v1/topics/{second}")).json()["topic"]
    assert merged_view["merged_into"] == first
    # Recording onto the merged topic links to the topic it belongs to.
    assert (await pia.post(f"/api/v1/topics/{second}/merge", {"into": first})).status_code == 409

    undone = await pia.post(f"/api/v1/topics/{second}/unmerge")
    assert undone.status_code == 200, undone.text
    restored = await board()
    assert (restored[first]["mentions"], restored[first]["links"]) == (2, 2)
    assert (restored[second]["mentions"], restored[second]["links"]) == (2, 2)
    assert (await pia.post(f"/api/v1/topics/{second}/unmerge")).status_code == 409

    # Merge again and accept: the merged topic's conversations hear about the request.
    await pia.post(f"/api/v1/topics/{second}/merge", {"into": first})
    await pia.post(f"/api/v1/topics/{first}/state", {"state": "under_discussion"})
    accepted = await pia.post(f"/api/v1/topics/{first}/state", {"state": "accepted"})
    assert accepted.json()["request"] == "REQ-1001"
    await notices_settled(desk)
    assert len(await request_items(p3, c3)) == 1
    assert len(await request_items(p2, c2a)) == 1 and len(await request_items(p2, c2b)) == 1
    # A topic with a request stays where it is.
    assert code(await pia.post(f"/api/v1/topics/{first}/merge", {"into": second})) in (
        "product_topic_has_request",
        "product_merge_target_merged",
    )

    async with desk.svc.db.read() as session:
        actions_logged = list(
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.subject_type == "topic", AuditEntry.subject_id == second)
                .order_by(AuditEntry.id)
            )
        )
    assert actions_logged.count("topic.merged") == 2
    assert actions_logged.count("topic.unmerged") == 1


async def test_permissions(desk: Live):
    aiko = await desk.agent("Aiko", ["customer_support"], max_chats=10)
    taro = await desk.agent("Taro", ["technical_support"])
    pia = await desk.agent("Pia", ["product"])
    sam = await desk.agent("Sam", ["supervisor"], online=False)
    admin = await desk.agent("Ada", ["admin"], online=False)
    mine = await customer(desk, "p1")
    conv_id = await open_chat(mine, PARAPHRASES[0])
    topic_id = (await wish(aiko, conv_id, "pdf", new_topic=GANTT))["topic_id"]

    # Only tier 2 files bugs; bad input is a 4xx with a stable code.
    bug = {"steps": "1. open", "expected": "a pdf", "actual": "nothing", "topic_id": topic_id}
    refused = await aiko.post(f"/api/v1/conversations/{conv_id}/bugs", bug)
    assert (refused.status_code, code(refused)) == (403, "product_bug_tier2_only")
    not_theirs = await taro.post(f"/api/v1/conversations/{conv_id}/bugs", bug)
    assert not_theirs.status_code in (403, 404)  # Taro cannot write in a tier-1 chat
    both = await aiko.post(
        f"/api/v1/conversations/{conv_id}/wishes",
        {"quote": "x", "topic_id": topic_id, "new_topic": GANTT},
    )
    assert (both.status_code, code(both)) == (422, "product_topic_choice")
    empty = await aiko.post(
        f"/api/v1/conversations/{conv_id}/wishes", {"quote": " ", "topic_id": topic_id}
    )
    assert (empty.status_code, code(empty)) == (422, "product_quote_invalid")
    assert (
        await mine.post(
            f"/api/v1/conversations/{conv_id}/wishes", {"quote": "x", "topic_id": topic_id}
        )
    ).status_code == 403

    # Internal discussion: staff write it, customers never see it.
    secret = "Internal: legal says no PDF before Q3"
    assert (
        await pia.post(f"/api/v1/topics/{topic_id}/comments", {"body": secret})
    ).status_code == 201
    assert (
        await aiko.post(f"/api/v1/topics/{topic_id}/comments", {"body": "+1"})
    ).status_code == 201
    detail = (await aiko.get(f"/api/v1/topics/{topic_id}")).json()
    assert [c["body"] for c in detail["comments"]] == [secret, "+1"]
    for path in ("/api/v1/topics", f"/api/v1/topics/{topic_id}", "/api/v1/requests"):
        assert (await mine.get(path)).status_code == 403
    assert (
        await mine.post(f"/api/v1/topics/{topic_id}/comments", {"body": "hi"})
    ).status_code == 403

    # Only the product role moves topics and requests.
    for who in (aiko, sam, admin):
        moved = await who.post(f"/api/v1/topics/{topic_id}/state", {"state": "under_discussion"})
        assert (moved.status_code, code(moved)) == (403, "product_role_required")
    assert (
        await pia.post(f"/api/v1/topics/{topic_id}/state", {"state": "accepted"})
    ).status_code == 409
    await pia.post(f"/api/v1/topics/{topic_id}/state", {"state": "under_discussion"})
    unknown = await pia.post(f"/api/v1/topics/{topic_id}/state", {"state": "done"})
    assert (unknown.status_code, code(unknown)) == (422, "product_topic_state_unknown")
    accepted = await pia.post(
        f"/api/v1/topics/{topic_id}/state", {"state": "accepted", "complexity": "L"}
    )
    number = accepted.json()["request"]
    for who in (aiko, sam, admin):
        status = await who.post(
            f"/api/v1/requests/{number}/status", {"status": "in_progress", "client_key": "x"}
        )
        assert (status.status_code, code(status)) == (403, "product_role_required")
    skip = await pia.post(
        f"/api/v1/requests/{number}/status", {"status": "released", "client_key": "y"}
    )
    assert (skip.status_code, code(skip)) == (409, "product_request_transition")
    assert (await pia.get("/api/v1/requests/REQ-9999")).status_code == 404
    assert (await pia.get("/api/v1/requests/nonsense")).status_code == 404

    # The customer's view has no internal comments and no deadline field.
    await notices_settled(desk)
    mine_view = (await mine.get("/api/v1/my/requests")).text
    items_view = (await mine.get(f"/api/v1/conversations/{conv_id}/items")).text
    for text in (mine_view, items_view):
        assert secret not in text and "legal" not in text
    request = (await pia.get(f"/api/v1/requests/{number}")).json()
    assert not any("deadline" in k or "due" in k for k in request)

    # The integration token: admins create it; it sets statuses and nothing else.
    assert (await pia.post("/api/v1/admin/integration-tokens", {"name": "x"})).status_code == 403
    token = await integration_token(admin)
    listed = (await admin.get("/api/v1/admin/integration-tokens")).json()
    assert all(t["token"] is None for t in listed)  # shown once, hashed at rest
    bearer = {"Authorization": f"Bearer {token}"}
    for method, path, body in (
        ("GET", "/api/v1/topics", None),
        ("GET", "/api/v1/requests", None),
        ("GET", "/api/v1/my/requests", None),
        ("POST", f"/api/v1/requests/{number}/status", {"status": "queued", "client_key": "z"}),
        ("PATCH", f"/api/v1/requests/{number}", {"title": "hijacked"}),
        ("POST", f"/api/v1/topics/{topic_id}/comments", {"body": "x"}),
        ("GET", "/api/v1/conversations", None),
    ):
        response = await desk.http.request(method, path, json=body, headers=bearer)
        assert response.status_code == 401, (method, path, response.text)
    assert (await put_status(desk, token, number, "in_progress")).status_code == 200
    # Staff sessions and customers cannot use the tracker endpoint; nor a wrong token.
    assert (await put_status(desk, pia.token, number, "fixed")).status_code == 401
    assert (await put_status(desk, mine.token, number, "fixed")).status_code == 401
    bad = await put_status(desk, "sdi_wrong", number, "fixed")
    assert (bad.status_code, code(bad)) == (401, "integration_token_invalid")
    token_id = listed[0]["id"]
    assert (await admin.delete(f"/api/v1/admin/integration-tokens/{token_id}")).status_code == 204
    assert (await put_status(desk, token, number, "fixed")).status_code == 401
