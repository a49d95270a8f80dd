"""Two follow-ups of the product board, over HTTP on the database under test.

Confirming a bug report creates its topic's ``bug`` request on the same path as
accepting the topic (REQ number, items in every linked chat, webhook event), once: a
second confirm, or one after the topic was accepted, changes nothing and answers the
request that exists. And a conversation linked after its request existed (a wish or bug
recorded on the topic, or its topic merged into the request's) gets one catch-up item
with the request's number and current status, then hears every later change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from supportdesk.audit.models import AuditEntry
from supportdesk.product import actions
from supportdesk.product.models import RequestEvent, RequestNotice
from tests.api.test_product import (
    GANTT,
    code,
    customer,
    notices_settled,
    open_chat,
    request_items,
    wish,
)
from tests.factories import Actor, Live, start_live

BUG = {"steps": "1. Open a chart 2. Export", "expected": "a PDF", "actual": "an empty file"}


@pytest.fixture
async def desk(database_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    async with start_live(
        database_url, tmp_path, outbox_retry_seconds=0.2, outbox_poll_seconds=0.1
    ) as server:
        yield server


@pytest.fixture
def webhook_events(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The request events handed to the webhooks feature (W's own tests cover delivery)."""
    seen: list[str] = []
    original = actions.enqueue_webhook_event

    async def recording(session: Any, event: str, payload: dict[str, Any]) -> None:
        seen.append(event)
        await original(session, event, payload)

    monkeypatch.setattr(actions, "enqueue_webhook_event", recording)
    return seen


async def file_bug(agent: Actor, conv_id: int, **topic: Any) -> dict[str, Any]:
    response = await agent.post(f"/api/v1/conversations/{conv_id}/bugs", {**BUG, **topic})
    assert response.status_code == 201, response.text
    return response.json()


async def audited(live: Live, action: str) -> int:
    async with live.svc.db.read() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
            )
            or 0
        )


async def test_confirming_a_bug_creates_its_bug_request_once(desk: Live, webhook_events: list[str]):
    # One agent works tier 1 and tier 2, so every chat is theirs and they may file bugs.
    taro = await desk.agent("Taro", ["customer_support", "technical_support"], max_chats=10)
    pia = await desk.agent("Pia", ["product"])
    sam = await desk.agent("Sam", ["supervisor"], online=False)
    c1, c2 = await customer(desk, "p1"), await customer(desk, "p2", locale="ja")
    conv1 = await open_chat(c1, "The PDF export gives an empty file.")
    conv2 = await open_chat(c2, "PDF出力が空になります")
    bug = await file_bug(taro, conv1, new_topic=GANTT)
    topic_id = bug["topic_id"]
    a_wish = await wish(taro, conv2, "PDF出力", topic_id=topic_id)

    for who in (taro, sam):
        refused = await who.post(f"/api/v1/bugs/{bug['id']}/confirm")
        assert (refused.status_code, code(refused)) == (403, "product_role_required")
    assert (await pia.post(f"/api/v1/bugs/{a_wish['id']}/confirm")).status_code == 404
    assert (await pia.post("/api/v1/bugs/999999/confirm")).status_code == 404
    bad = await pia.post(f"/api/v1/bugs/{bug['id']}/confirm", {"complexity": "XL"})
    assert (bad.status_code, code(bad)) == (422, "product_complexity_unknown")
    assert webhook_events == []

    # Straight from "recorded": no discussion is needed to confirm a bug.
    confirmed = await pia.post(f"/api/v1/bugs/{bug['id']}/confirm", {"complexity": "S"})
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["created"] is True
    request = body["request"]
    assert (request["number"], request["kind"], request["status"]) == ("REQ-1001", "bug", "queued")
    assert (request["complexity"], request["title"]) == ("S", GANTT["title"])
    assert [h["change"] for h in request["history"]] == ["created"]
    topic = (await pia.get(f"/api/v1/topics/{topic_id}")).json()["topic"]
    assert (topic["state"], topic["request"]) == ("accepted", "REQ-1001")
    assert webhook_events == ["request.created"]

    # Every linked chat (the bug's and the wish's) hears of it, in both languages.
    await notices_settled(desk)
    for who, conv_id in ((c1, conv1), (c2, conv2)):
        items = await request_items(who, conv_id)
        assert [(i["data"]["request"], i["data"]["change"]) for i in items] == [
            ("REQ-1001", "created")
        ]
    ja = (await request_items(c2, conv2))[0]["data"]["text"]["ja"]
    assert "REQ-1001" in ja and "開発待ち" in ja

    # Confirming again changes nothing and answers the same request.
    again = await pia.post(f"/api/v1/bugs/{bug['id']}/confirm", {"complexity": "L"})
    assert again.status_code == 200, again.text
    assert again.json()["created"] is False
    assert (again.json()["request"]["number"], again.json()["request"]["complexity"]) == (
        "REQ-1001",
        "S",
    )
    await notices_settled(desk)
    for who, conv_id in ((c1, conv1), (c2, conv2)):
        assert len(await request_items(who, conv_id)) == 1
    assert webhook_events == ["request.created"]
    assert await audited(desk, "bug.confirmed") == 1
    assert await audited(desk, "request.created") == 1
    assert [r["number"] for r in (await pia.get("/api/v1/requests")).json()] == ["REQ-1001"]


async def test_confirm_after_accepting_and_on_merged_or_declined_topics(
    desk: Live, webhook_events: list[str]
):
    taro = await desk.agent("Taro", ["customer_support", "technical_support"], max_chats=10)
    pia = await desk.agent("Pia", ["product"])
    c1, c2, c3 = [await customer(desk, p) for p in ("p1", "p2", "p3")]
    conv1, conv2, conv3 = [await open_chat(c, "pdf is empty") for c in (c1, c2, c3)]

    # A topic accepted on the board: confirming one of its bugs is the existing request.
    accepted_bug = await file_bug(taro, conv1, new_topic=GANTT)
    topic_id = accepted_bug["topic_id"]
    await pia.post(f"/api/v1/topics/{topic_id}/state", {"state": "under_discussion"})
    accepted = await pia.post(f"/api/v1/topics/{topic_id}/state", {"state": "accepted"})
    assert accepted.json()["request"] == "REQ-1001"
    confirmed = await pia.post(f"/api/v1/bugs/{accepted_bug['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["created"], confirmed.json()["request"]["number"]) == (
        False,
        "REQ-1001",
    )
    assert confirmed.json()["request"]["kind"] == "bug"  # accepting with a bug linked

    # A bug on a topic merged into another: the request is the root topic's.
    root = await file_bug(
        taro, conv2, new_topic={"title": "Print preview crashes", "description": ""}
    )
    merged = await file_bug(taro, conv3, new_topic={"title": "Preview crash", "description": ""})
    assert (
        await pia.post(f"/api/v1/topics/{merged['topic_id']}/merge", {"into": root["topic_id"]})
    ).status_code == 200
    on_merged = await pia.post(f"/api/v1/bugs/{merged['id']}/confirm")
    assert on_merged.status_code == 200, on_merged.text
    assert on_merged.json()["created"] is True
    assert on_merged.json()["request"]["number"] == "REQ-1002"
    assert on_merged.json()["request"]["topic_id"] == root["topic_id"]
    on_root = await pia.post(f"/api/v1/bugs/{root['id']}/confirm")
    assert (on_root.json()["created"], on_root.json()["request"]["number"]) == (False, "REQ-1002")
    await notices_settled(desk)
    assert len(await request_items(c2, conv2)) == 1
    assert len(await request_items(c3, conv3)) == 1

    # A declined topic is reopened first; nothing is written meanwhile.
    declined = await file_bug(taro, conv1, new_topic={"title": "Logo blurry", "description": ""})
    await pia.post(f"/api/v1/topics/{declined['topic_id']}/state", {"state": "declined"})
    refused = await pia.post(f"/api/v1/bugs/{declined['id']}/confirm")
    assert (refused.status_code, code(refused)) == (409, "product_topic_transition")
    assert [r["number"] for r in (await pia.get("/api/v1/requests")).json()] == [
        "REQ-1001",
        "REQ-1002",
    ]
    assert webhook_events == ["request.created", "request.created"]


async def test_a_chat_linked_to_an_existing_request_catches_up_once(
    desk: Live, webhook_events: list[str]
):
    aiko = await desk.agent("Aiko", ["customer_support"], max_chats=10)
    pia = await desk.agent("Pia", ["product"])
    first, late = await customer(desk, "p1"), await customer(desk, "p2", locale="ja")
    first_conv = await open_chat(first, "Export the Gantt chart to PDF, please")
    late_conv = await open_chat(late, "ガントチャートをPDFで出力したい")
    topic_id = (await wish(aiko, first_conv, "pdf", new_topic=GANTT))["topic_id"]
    await pia.post(f"/api/v1/topics/{topic_id}/state", {"state": "under_discussion"})
    await pia.post(f"/api/v1/topics/{topic_id}/state", {"state": "accepted"})
    moved = await pia.post(
        "/api/v1/requests/REQ-1001/status", {"status": "in_progress", "client_key": "k1"}
    )
    assert moved.json()["changed"] is True
    await notices_settled(desk)
    assert len(await request_items(first, first_conv)) == 2
    assert await request_items(late, late_conv) == []

    # The wish on the accepted topic: one catch-up item, live, with number and status.
    async with late.socket() as sock:
        await wish(aiko, late_conv, "PDFで出力したい", topic_id=topic_id)
        item = await sock.wait_item(
            late_conv, lambda i: (i.get("data") or {}).get("system") == "request_update"
        )
    data = item["data"]
    assert (data["request"], data["change"], data["status"]) == (
        "REQ-1001",
        "linked",
        "in_progress",
    )
    assert "REQ-1001" in data["text"]["ja"] and "開発中" in data["text"]["ja"]
    assert "REQ-1001" in data["text"]["en"] and "in progress" in data["text"]["en"]
    assert "期日" in data["text"]["ja"]  # the first item says why there are no dates

    # A second wish from the same chat does not repeat it; nobody else hears anything,
    # and it is neither a change of the request (history) nor a webhook event.
    await wish(aiko, late_conv, "PDF出力、再度のお願い", topic_id=topic_id)
    await notices_settled(desk)
    assert len(await request_items(late, late_conv)) == 1
    assert len(await request_items(first, first_conv)) == 2
    request = (await pia.get("/api/v1/requests/REQ-1001")).json()
    assert [h["change"] for h in request["history"]] == ["created", "status"]
    mine = (await late.get("/api/v1/my/requests")).json()["requests"]
    assert [(r["number"], [h["change"] for h in r["history"]]) for r in mine] == [
        ("REQ-1001", ["created", "status"])
    ]
    assert webhook_events == ["request.created", "request.status_changed"]

    # A job run twice (at-least-once outbox) posts nothing more.
    async with desk.svc.db.read() as session:
        notice_ids = list(
            await session.scalars(
                select(RequestNotice.id).where(RequestNotice.conversation_id == late_conv)
            )
        )
    assert len(notice_ids) == 1
    await actions._post_notice(desk.svc, {"notice_id": notice_ids[0]})
    assert len(await request_items(late, late_conv)) == 1

    # From now on the chat hears every change like the others: one item each.
    fixed = await pia.post(
        "/api/v1/requests/REQ-1001/status", {"status": "fixed", "client_key": "k2"}
    )
    assert fixed.json()["changed"] is True
    await notices_settled(desk)
    late_items = await request_items(late, late_conv)
    assert [(i["data"]["change"], i["data"]["status"]) for i in late_items] == [
        ("linked", "in_progress"),
        ("status", "fixed"),
    ]
    assert [i["data"]["status"] for i in await request_items(first, first_conv)] == [
        "queued",
        "in_progress",
        "fixed",
    ]


async def test_a_topic_merged_into_one_with_a_request_catches_up_its_chats_once(desk: Live):
    aiko = await desk.agent("Aiko", ["customer_support"], max_chats=10)
    pia = await desk.agent("Pia", ["product"])
    p1, p2 = await customer(desk, "p1"), await customer(desk, "p2")
    conv1, conv2 = await open_chat(p1, "pdf"), await open_chat(p2, "print")
    target = (await wish(aiko, conv1, "pdf", new_topic=GANTT))["topic_id"]
    source = (
        await wish(aiko, conv2, "print", new_topic={"title": "Print Gantt", "description": ""})
    )["topic_id"]
    await pia.post(f"/api/v1/topics/{target}/state", {"state": "under_discussion"})
    await pia.post(f"/api/v1/topics/{target}/state", {"state": "accepted"})

    assert (await pia.post(f"/api/v1/topics/{source}/merge", {"into": target})).status_code == 200
    await notices_settled(desk)
    items = await request_items(p2, conv2)
    assert [(i["data"]["request"], i["data"]["change"]) for i in items] == [("REQ-1001", "linked")]
    assert len(await request_items(p1, conv1)) == 1

    # Undone and done again: the chat has heard of the request already.
    await pia.post(f"/api/v1/topics/{source}/unmerge")
    await pia.post(f"/api/v1/topics/{source}/merge", {"into": target})
    await notices_settled(desk)
    assert len(await request_items(p2, conv2)) == 1
    async with desk.svc.db.read() as session:
        linked_events = await session.scalar(
            select(func.count()).select_from(RequestEvent).where(RequestEvent.change == "linked")
        )
    assert linked_events == 1
