"""The customer help widget in real Chromium, on the demo host page.

Demo users (``supportdesk.demo.DEMO_CUSTOMERS``): 0 = commercial admin (Japanese),
1 = commercial non-admin (English), 2 = free-plan admin (English).
"""

from __future__ import annotations

import asyncio

from playwright.async_api import Frame, FrameLocator, Request, expect

from ..factories import Actor, Live, key
from .conftest import Browsing

ADMIN, NON_ADMIN, FREE_ADMIN = 0, 1, 2
ASK_LABEL = {ADMIN: "質問する", NON_ADMIN: "Ask a question", FREE_ADMIN: "Ask a question"}


async def open_widget(b: Browsing, user: int = ADMIN) -> FrameLocator:
    """As a person would: "?" at the top right, scroll the help panel, "Ask a question"."""
    page = b.page
    await page.goto(f"{b.base_url}/demo/host?user={user}")
    await page.locator("#help-toggle").click()
    body = page.locator("#help-body")
    await expect(body).to_be_visible()
    ask = page.get_by_role("button", name=ASK_LABEL[user], exact=True)
    await expect(ask).not_to_be_in_viewport()  # the panel really has to be scrolled
    await body.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    await expect(ask).to_be_in_viewport()
    await ask.click()
    return page.frame_locator("#supportdesk-frame")


def widget_frame(b: Browsing) -> Frame:
    frame = b.page.frame(name="supportdesk-widget")
    assert frame is not None
    return frame


async def ask(frame: FrameLocator, body: str) -> None:
    await frame.locator("#ask-body").fill(body)
    await frame.locator("#ask-form button[type=submit]").click()
    # A question the triage coaches is held once (widget-triage.js): send it anyway.
    chat, anyway = frame.locator("#view-chat"), frame.locator("#triage-send-anyway")
    await expect(chat.or_(anyway).first).to_be_visible()
    if await anyway.is_visible():
        await anyway.click()
    await expect(chat).to_be_visible()


async def connected(b: Browsing) -> None:
    frame = widget_frame(b)
    await frame.wait_for_function("() => window.__supportdesk.connected()")


async def conversation_id(agent: Actor) -> int:
    conversations = (await agent.get("/api/v1/conversations")).json()
    assert conversations, "the agent sees no conversation"
    return int(conversations[0]["id"])


async def reply(agent: Actor, cid: int, body: str) -> None:
    response = await agent.post(
        f"/api/v1/conversations/{cid}/messages", {"body": body, "client_key": key()}
    )
    assert response.status_code == 201, response.text


async def start_assigned_chat(
    b: Browsing, live: Live, question: str
) -> tuple[FrameLocator, Actor, int]:
    agent = await live.agent("Aiko Agent", ["customer_support"])
    frame = await open_widget(b)
    await ask(frame, question)
    await expect(frame.locator("#chat-status")).to_contain_text("Aiko Agent")
    await connected(b)
    return frame, agent, await conversation_id(agent)


async def test_ask_then_live_chat_with_queue_position_agent_tier_and_typing(
    browsing: Browsing, demo_live: Live
) -> None:
    agent = await demo_live.agent("Ben Agent", ["customer_support"], online=False)
    frame = await open_widget(browsing)
    await expect(frame.locator("#kb-suggestions")).to_have_count(1)
    await ask(frame, "CSV のエクスポートがタイムアウトします。")

    # Nobody is online yet: the customer sees their place in the queue.
    await expect(frame.locator("#chat-status")).to_have_text(
        "担当者をお待ちください。現在 1 番目です。"
    )
    await expect(frame.locator(".sd-mine .sd-body")).to_have_text(
        "CSV のエクスポートがタイムアウトします。"
    )
    await connected(browsing)

    # The agent comes online and is assigned: name and tier, live.
    assert (await agent.put("/api/v1/staff/me/presence", {"presence": "online"})).status_code == 200
    await expect(frame.locator("#chat-status")).to_have_text(
        "担当: Ben Agent（カスタマーサポート）"
    )
    await expect(frame.locator(".sd-system").first).to_have_text(
        "Ben Agent（カスタマーサポート）が対応を始めました。"
    )
    cid = await conversation_id(agent)

    async with agent.socket() as sock:
        # Watching the conversation, as the console does when it opens it. (Without
        # this, the customer's typing misses the agent for up to 30 s: the gateway
        # routes typing with per-socket cached facts from before the assignment.)
        await sock.send({"type": "resume", "cursors": {str(cid): 0}})
        # The agent types: the customer sees it; the customer types: the agent sees it.
        await sock.send({"type": "typing", "conversation_id": cid})
        await expect(frame.locator("#chat-typing")).to_have_text("Ben Agent が入力中…")
        await frame.locator("#chat-body").press_sequentially("は")
        typing = await sock.wait_for(
            lambda f: f["type"] == "typing" and f["who"]["type"] == "customer"
        )
        assert typing["conversation_id"] == cid

        # The reply appears without a reload.
        await reply(agent, cid, "Hello! Which browser do you use?")
        reply_item = frame.locator(".sd-theirs").filter(has_text="Which browser")
        await expect(reply_item.locator(".sd-author")).to_have_text(
            "Ben Agent · カスタマーサポート"
        )
        await expect(frame.locator("#chat-typing")).to_have_text("")

    # The customer answers from the widget; the agent gets it.
    await frame.locator("#chat-body").fill("Chromium です")
    await frame.locator("#chat-body").press("Enter")
    await expect(frame.locator(".sd-mine .sd-body").last).to_have_text("Chromium です")
    items = (await agent.get(f"/api/v1/conversations/{cid}/items")).json()
    assert [i["body"] for i in items if i["kind"] == "message"][-1] == "Chromium です"
    assert browsing.errors == []
    await browsing.screenshot("chat-ja-desktop")


async def test_ineligible_users_see_the_reason_and_no_ask_form(browsing: Browsing) -> None:
    cases = [
        (FREE_ADMIN, "Support chat is available on commercial plans."),
        (NON_ADMIN, "Only administrators of your portal can contact support."),
    ]
    for user, reason in cases:
        frame = await open_widget(browsing, user)
        await expect(frame.locator("#ineligible-message")).to_contain_text(reason)
        await expect(
            frame.get_by_role("heading", name="Support chat is not available")
        ).to_be_visible()
        await expect(frame.get_by_role("link", name="See plans and pricing")).to_have_attribute(
            "href", "https://example.com/pricing"
        )
        await expect(frame.get_by_role("link", name="Open the help center")).to_be_visible()
        await expect(frame.locator("#ask-form")).to_be_hidden()
        await expect(frame.locator("#ask-body")).to_be_hidden()
        await browsing.screenshot(f"ineligible-{user}")


async def test_user_content_is_shown_as_text_never_markup(
    browsing: Browsing, demo_live: Live
) -> None:
    payload = "<img src=x onerror=alert(1)>"
    frame, agent, cid = await start_assigned_chat(browsing, demo_live, payload)
    await reply(agent, cid, "<script>alert(2)</script><b>bold?</b>")
    await expect(frame.locator(".sd-mine .sd-body")).to_have_text(payload)
    await expect(frame.locator(".sd-theirs .sd-body")).to_have_text(
        "<script>alert(2)</script><b>bold?</b>"
    )
    await expect(frame.locator("#chat-items img, #chat-items script, #chat-items b")).to_have_count(
        0
    )
    # The history list shows the subject as text too.
    await frame.locator("#sd-back").click()
    await expect(frame.locator(".sd-history-subject")).to_have_text(payload)
    await asyncio.sleep(0.3)  # give a would-be onerror handler time to fire
    assert browsing.dialogs == []
    assert browsing.errors == []


async def test_japanese_locale_shows_japanese_strings(browsing: Browsing) -> None:
    frame = await open_widget(browsing, ADMIN)
    await expect(frame.get_by_role("heading", name="質問する")).to_be_visible()
    await expect(frame.get_by_label("ご質問の内容")).to_be_visible()
    await expect(frame.get_by_role("button", name="質問を送信")).to_be_visible()
    await expect(frame.get_by_role("heading", name="これまでのお問い合わせ")).to_be_visible()
    await expect(frame.locator("html")).to_have_attribute("lang", "ja")
    await browsing.screenshot("home-ja")


async def test_no_message_is_lost_across_reconnects(browsing: Browsing, demo_live: Live) -> None:
    frame, agent, cid = await start_assigned_chat(browsing, demo_live, "Reconnect test")
    widget = widget_frame(browsing)
    await reply(agent, cid, "before the drop")
    await expect(frame.locator(".sd-theirs").filter(has_text="before the drop")).to_have_count(1)

    # 1. The socket is down while the agent writes; it comes back and resumes.
    await widget.evaluate("() => window.__supportdesk.dropSocket({hold: true})")
    await expect(frame.locator("#sd-banner")).to_have_text("再接続しています…")
    for i in range(3):
        await reply(agent, cid, f"while away {i}")
    await asyncio.sleep(0.3)
    await expect(frame.locator(".sd-theirs").filter(has_text="while away")).to_have_count(0)
    await widget.evaluate("() => window.__supportdesk.reconnectNow()")
    await expect(frame.locator("#sd-banner")).to_be_hidden()

    # 2. An unplanned drop: the widget reconnects by itself after a backoff.
    await widget.evaluate("() => window.__supportdesk.dropSocket()")
    await reply(agent, cid, "during the backoff")
    await expect(frame.locator("#sd-banner")).to_be_hidden(timeout=15_000)
    await reply(agent, cid, "after the reconnect")

    expected = [
        "before the drop",
        "while away 0",
        "while away 1",
        "while away 2",
        "during the backoff",
        "after the reconnect",
    ]
    bodies = frame.locator(".sd-theirs .sd-body")
    await expect(bodies).to_have_text(expected)  # each once, in order
    seqs = await frame.locator("#chat-items > li").evaluate_all(
        "nodes => nodes.map(n => Number(n.dataset.seq))"
    )
    assert seqs == sorted(set(seqs))


async def test_rating_after_resolution_is_sent_once(browsing: Browsing, demo_live: Live) -> None:
    frame, agent, cid = await start_assigned_chat(browsing, demo_live, "Please resolve me")
    rating_posts: list[str] = []

    def on_request(request: Request) -> None:
        if request.method == "POST" and request.url.endswith(f"/conversations/{cid}/rating"):
            rating_posts.append(request.post_data or "")

    browsing.page.on("request", on_request)
    response = await agent.post(f"/api/v1/conversations/{cid}/resolve")
    assert response.status_code == 200, response.text

    await expect(frame.locator(".sd-system").last).to_have_text(
        "Aiko Agent がこのお問い合わせを解決済みにしました。"
    )
    await expect(frame.locator("#chat-status")).to_have_text("このお問い合わせは解決済みです。")
    await expect(frame.locator("#chat-form")).to_be_hidden()
    stars = frame.locator(".sd-star")
    await expect(stars).to_have_count(5)
    await frame.get_by_role("button", name="5 段階中 4").click()
    await frame.get_by_label("コメント（任意）").fill("早い対応でした")
    await browsing.screenshot("rating-ja")
    submit = frame.get_by_role("button", name="評価を送信")
    await submit.dblclick()
    await expect(frame.locator(".sd-thanks")).to_have_text("ご評価ありがとうございました。")
    await expect(frame.locator("#chat-items")).to_contain_text("評価: 5 段階中 4")
    await expect(stars).to_have_count(0)

    assert len(rating_posts) == 1
    conversation = (await agent.get(f"/api/v1/conversations/{cid}")).json()
    assert conversation["state"] == "closed" and conversation["rated"] is True


async def test_narrow_viewport_has_no_horizontal_overflow(
    narrow: Browsing, demo_live: Live
) -> None:
    frame, agent, cid = await start_assigned_chat(narrow, demo_live, "x" * 300)
    await reply(agent, cid, "https://example.com/" + "a-very-long-path-segment-" * 12)
    await expect(frame.locator(".sd-theirs")).to_have_count(1)
    widget = widget_frame(narrow)
    box = await narrow.page.locator("#supportdesk-frame").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    for target in (widget, narrow.page.main_frame):
        overflow = await target.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{target.url} overflows by {overflow}px"
    await narrow.screenshot("chat-360px")
