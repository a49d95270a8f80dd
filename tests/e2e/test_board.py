"""The product board, the console's wish and bug dialogs and the widget's request items
in real Chromium.

- Three portals wish for the same thing (one of them the demo customer, chatting in the
  widget); the board ranks that topic first with 3 mentions, above a topic with five
  wishes from one portal; the product manager discusses it, accepts it, and REQ-1001
  appears in the queue; the customer's open widget shows the new item live, in
  Japanese; a status change on the board posts another; "My requests" lists the request
  with its history.  Staff without the product role see a refusal.
- The console: triage says feature_request, "Record wish" is one click, the quote is the
  customer's question, typing suggests the existing topic, the wish is linked to it;
  tier 2 files a bug with steps, expected and actual.
axe-clean on each state.
"""

from __future__ import annotations

import asyncio

from playwright.async_api import Page, expect

from supportdesk.conversations.models import CustomerRead

from ..factories import Actor, Live, key
from .conftest import Browsing, staff_sign_in
from .test_accessibility import assert_no_violations
from .test_console import set_presence
from .test_widget import ADMIN, ask, connected, conversation_id, open_widget, widget_frame

WISH_JA = "ガントチャートをPDFで書き出せるようにしてほしいです。"
TOPIC = "Export the Gantt chart to PDF"


async def open_chat(live: Live, customer: Actor, body: str) -> int:
    opened = await customer.post("/api/v1/conversations", {"body": body, "client_key": key()})
    assert opened.status_code == 201, opened.text
    return int(opened.json()["conversation"]["id"])


async def wish(agent: Actor, conv_id: int, quote: str, topic: int | str) -> int:
    body: dict[str, object] = {"quote": quote}
    if isinstance(topic, int):
        body["topic_id"] = topic
    else:
        body["new_topic"] = {"title": topic, "description": ""}
    answer = await agent.post(f"/api/v1/conversations/{conv_id}/wishes", body)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["topic_id"])


async def three_portals_and_one_loud_one(live: Live, agent: Actor, first_conv: int) -> int:
    """The demo customer's conversation plus two other portals on the same topic; a
    second topic with five wishes from one portal.  Returns the first topic's id."""
    topic = await wish(agent, first_conv, WISH_JA, TOPIC)
    for portal, words in (
        ("beta", "Could we get the Gantt chart as a PDF file?"),
        ("gamma", "GanttをPDFにエクスポートする機能が欲しいです"),
    ):
        customer = await live.customer(portal=portal, user=f"{portal}-admin")
        conv = await open_chat(live, customer, words)
        await wish(agent, conv, words, topic)
    loud = await live.customer(portal="delta", user="delta-admin")
    other = None
    for n in range(5):
        conv = await open_chat(live, loud, f"Dark mode please ({n})")
        other = await wish(agent, conv, f"Dark mode please ({n})", other or "Dark mode")
    return topic


async def board_sign_in(b: Browsing, live: Live) -> Page:
    await staff_sign_in(b, live, "/board", "Pia Product", ["product"])
    page = b.page
    await expect(page.locator("#bd-manage")).to_be_visible()
    return page


async def test_the_board_ranks_accepts_and_the_customer_sees_the_request_live(
    browsing: Browsing, new_browsing, demo_live: Live
) -> None:
    # The demo customer (Japanese, portal acme) asks in the widget; Aiko is assigned.
    agent = await demo_live.agent("Aiko Agent", ["customer_support"], max_chats=20)
    frame = await open_widget(browsing, ADMIN)
    await ask(frame, WISH_JA)
    await expect(frame.locator("#chat-status")).to_contain_text("Aiko Agent")
    await connected(browsing)
    first = await conversation_id(agent)
    topic = await three_portals_and_one_loud_one(demo_live, agent, first)

    board = await new_browsing()
    page = await board_sign_in(board, demo_live)
    # Ranked: three portals above five wishes from one portal; the formula is on the page.
    rows = page.locator("#bd-rows tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_have_attribute("data-topic", str(topic))
    await expect(rows.nth(0).locator(".bd-topic-link")).to_have_text(TOPIC)
    await expect(rows.nth(0).locator(".bd-mentions")).to_have_text("3")
    await expect(rows.nth(1).locator(".bd-topic-link")).to_have_text("Dark mode")
    await expect(rows.nth(1).locator(".bd-mentions")).to_have_text("1")
    await page.locator(".bd-formula summary").click()
    await expect(page.locator(".bd-formula")).to_contain_text("0.5 ^ (days since")
    await assert_no_violations(page, "board: ranked topics")
    await board.screenshot("board-topics")

    # The text filter.
    await page.locator("#bd-q").fill("dark")
    await page.locator("#bd-filter-submit").click()
    await expect(rows).to_have_count(1)
    await expect(rows.nth(0).locator(".bd-topic-link")).to_have_text("Dark mode")
    await page.locator("#bd-q").fill("")
    await page.locator("#bd-filter-submit").click()
    await expect(rows).to_have_count(2)

    # The detail: three wishes with portal and the customer's words; a comment.
    await rows.nth(0).locator(".bd-topic-link").click()
    await expect(page.locator("#bd-detail-heading")).to_have_text(TOPIC)
    links = page.locator("#bd-links .bd-link")
    await expect(links).to_have_count(3)
    await expect(links.nth(0).locator(".bd-quote")).to_have_text(WISH_JA)
    await expect(links.nth(0).locator(".bd-portal")).to_have_text("Portal acme")
    await expect(links.nth(0).locator("a.bd-conv")).to_have_attribute(
        "href", f"/console?conversation={first}"
    )
    await page.locator("#bd-comment").fill("Customers <b>keep</b> asking; the renderer can do it.")
    await page.locator("#bd-comment-submit").click()
    await expect(page.locator("#bd-comments .bd-comment-body")).to_have_text(
        "Customers <b>keep</b> asking; the renderer can do it."
    )
    await expect(page.locator("#bd-comments .bd-comment-author")).to_have_text("Pia Product")

    # Discuss, then accept: REQ-1001 in the queue.
    await page.locator("#bd-discuss").click()
    await expect(page.locator("#bd-notice")).to_have_text(f"“{TOPIC}” is now Under discussion.")
    await page.locator("#bd-accept").click()
    await expect(page.locator("#bd-notice")).to_have_text(
        f"“{TOPIC}” accepted: request REQ-1001 created."
    )
    queued = page.locator(".bd-column--queued .bd-request")
    await expect(queued).to_have_count(1)
    await expect(queued.locator(".bd-req-number")).to_have_text("REQ-1001")
    await expect(queued.locator(".bd-request-title")).to_have_text(TOPIC)
    await expect(page.locator("#bd-detail-request")).to_have_text(
        "Development request REQ-1001: Queued"
    )
    await assert_no_violations(page, "board: accepted topic and the request queue")
    await board.screenshot("board-accepted")

    # The customer's open chat shows the new item live, in Japanese.
    update = frame.locator("#chat-items .sd-request-update")
    await expect(update).to_have_count(1)
    await expect(update.locator(".sd-request-text")).to_contain_text(
        f"ご要望を開発リクエスト REQ-1001「{TOPIC}」として登録しました"
    )
    await expect(update.locator(".sd-request-label")).to_have_text("開発リクエスト")
    # The widget reports what the open chat has shown, so a seen update is not e-mailed.
    seen = int(await update.get_attribute("data-seq") or 0)
    chat = await widget_frame(browsing).evaluate("() => window.SDWidget.state.chat.id")
    await _read_marker_reaches(demo_live, chat, seen)
    await assert_no_violations(widget_frame(browsing), "widget: request update in the chat")
    await browsing.screenshot("board-widget-request-created")

    # A status change on the board posts one more item.
    await queued.locator(".bd-move").select_option("in_progress")
    await queued.locator(".bd-move-submit").click()
    moving = page.locator(".bd-column--in_progress .bd-request")
    await expect(moving).to_have_count(1)
    await expect(page.locator("#bd-notice")).to_have_text("REQ-1001 is now In progress.")
    await expect(update).to_have_count(2)
    await expect(update.nth(1).locator(".sd-request-text")).to_have_text(
        f"リクエスト REQ-1001「{TOPIC}」のステータスが「開発中」になりました。"
    )

    # A new title and complexity: saved, and told in the chat too.
    await moving.locator(".bd-edit").click()
    await expect(page.locator("#bd-title-REQ-1001")).to_be_focused()
    await page.locator("#bd-title-REQ-1001").fill("Gantt chart as PDF")
    await page.locator("#bd-size-REQ-1001").select_option("L")
    await assert_no_violations(page, "board: editing a request")
    await moving.locator("button[type=submit]").click()
    await expect(page.locator("#bd-notice")).to_have_text("REQ-1001 saved.")
    await expect(moving.locator(".bd-request-title")).to_have_text("Gantt chart as PDF")
    await expect(moving.locator(".bd-complexity")).to_have_text("Complexity L")
    await expect(update).to_have_count(3)
    await expect(update.nth(2).locator(".sd-request-text")).to_contain_text(
        "「Gantt chart as PDF」"
    )

    # The board in Japanese.
    await page.locator("#sd-language").select_option("ja")
    await expect(page.locator("#app h1")).to_have_text("プロダクトボード")
    await expect(page.locator(".bd-column--in_progress h3")).to_have_text("対応中（1）")
    await expect(page.locator("#sd-header a[href='/board']")).to_have_text("プロダクトボード")

    # "My requests": the request with its history, and why there are no dates.
    await update.nth(1).locator(".sd-request-more").click()
    await expect(frame.locator("#view-requests")).to_be_visible()
    entry = frame.locator("#requests-list .sd-request")
    await expect(entry).to_have_count(1)
    await expect(entry.locator(".sd-request-number")).to_have_text("REQ-1001")
    await expect(entry.locator(".sd-request-status")).to_have_text("開発中")
    await expect(entry.locator(".sd-request-title")).to_have_text("Gantt chart as PDF")
    await expect(entry.locator(".sd-request-history li")).to_have_count(3)
    await expect(entry.locator(".sd-request-history li").nth(2)).to_contain_text(
        "タイトルを「Gantt chart as PDF」に変更"
    )
    await expect(frame.locator("#requests-no-deadline")).to_contain_text("期日をお約束していません")
    await assert_no_violations(widget_frame(browsing), "widget: my requests")
    await browsing.screenshot("board-widget-my-requests")
    # Back goes to the chat it came from.
    await frame.locator("#sd-back").click()
    await expect(frame.locator("#view-chat")).to_be_visible()
    assert not board.errors and not browsing.errors


async def _read_marker_reaches(live: Live, conversation: int, seq: int) -> None:
    async with asyncio.timeout(10):
        while True:
            async with live.svc.db.read() as session:
                read = await session.get(CustomerRead, conversation)
            if read is not None and read.last_read_seq >= seq:
                return
            await asyncio.sleep(0.1)


async def test_merge_and_unmerge_keep_every_link(browsing: Browsing, demo_live: Live) -> None:
    agent = await demo_live.agent("Aiko Agent", ["customer_support"])
    a = await demo_live.customer(portal="beta", user="b1")
    b = await demo_live.customer(portal="gamma", user="g1")
    first = await wish(
        agent, await open_chat(demo_live, a, "PDF export of Gantt"), "PDF", "Gantt PDF"
    )
    await wish(agent, await open_chat(demo_live, b, "Gantt as PDF"), "as PDF", "Gantt as PDF file")
    page = await board_sign_in(browsing, demo_live)
    rows = page.locator("#bd-rows tr")
    await expect(rows).to_have_count(2)
    await (
        page.locator("#bd-rows tr", has_text="Gantt as PDF file").locator(".bd-topic-link").click()
    )
    await page.locator("#bd-merge-into").select_option(str(first))
    await page.locator("#bd-merge-submit").click()
    await expect(page.locator("#bd-notice")).to_have_text(
        "“Gantt as PDF file” merged into “Gantt PDF”."
    )
    await expect(rows).to_have_count(1)
    await expect(rows.nth(0).locator(".bd-mentions")).to_have_text("2")
    await expect(page.locator("#bd-detail-merged")).to_contain_text("Merged into “Gantt PDF”.")
    await rows.nth(0).locator(".bd-topic-link").click()
    await expect(page.locator("#bd-links .bd-link")).to_have_count(2)
    await expect(page.locator("#bd-merged-here li")).to_contain_text("Gantt as PDF file")
    await assert_no_violations(page, "board: merged topic")
    await page.locator("#bd-merged-here .bd-unmerge").click()
    await expect(page.locator("#bd-notice")).to_have_text(
        "“Gantt as PDF file” is a topic of its own again."
    )
    await expect(rows).to_have_count(2)
    await expect(page.locator("#bd-links .bd-link")).to_have_count(1)
    assert not browsing.errors


async def test_staff_without_the_product_role_see_a_refusal(
    browsing: Browsing, demo_live: Live
) -> None:
    await staff_sign_in(browsing, demo_live, "/board", "Sara Supervisor", ["supervisor"])
    page = browsing.page
    await expect(page.locator("#bd-refused")).to_be_visible()
    await expect(page.locator("#bd-manage")).to_be_hidden()
    await expect(page.locator("#sd-header a[href='/board']")).to_be_hidden()
    await assert_no_violations(page, "board: refusal")


async def test_one_click_wish_from_triage_with_similar_topic_suggestions(
    browsing: Browsing, new_browsing, demo_live: Live
) -> None:
    # An existing topic from another portal, for the suggestions.
    helper = await demo_live.agent("Ben Helper", ["customer_support"])
    other = await demo_live.customer(portal="beta", user="b1")
    helper_conv = await open_chat(demo_live, other, "Gantt PDF please")
    topic = await wish(helper, helper_conv, "Gantt PDF please", TOPIC)
    gone = await helper.put("/api/v1/staff/me/presence", {"presence": "offline"})
    assert gone.status_code == 200, gone.text

    await staff_sign_in(browsing, demo_live, "/console", "Aiko Agent", ["customer_support"])
    page = browsing.page
    await expect(page.locator("#sd-connection.is-live")).to_have_count(1)
    await set_presence(page, "online")
    customer = await demo_live.customer(portal="acme", user="acme-admin", locale="ja")
    conv = await open_chat(demo_live, customer, WISH_JA)

    await page.locator("#cs-mine .cs-conv").first.click()
    panel = page.locator("#cs-triage")
    await expect(panel).to_contain_text("Feature request")
    await expect(page.locator("#cs-record-wish")).to_be_visible()
    await page.locator("#cs-triage-wish").click()
    dialog = page.locator("#cs-product-dialog")
    await expect(dialog).to_be_visible()
    await expect(page.locator("#cs-product-heading")).to_have_text("Record a wish")
    await expect(page.locator("#cs-product-quote")).to_have_value(WISH_JA)
    # Typing suggests the existing topic.
    search = page.locator("#cs-product-search")
    await search.fill("")
    await search.press_sequentially("export gantt pdf")
    suggestion = page.locator(f"#cs-product-topics input[value='{topic}']")
    await expect(suggestion).to_have_count(1)
    await expect(page.locator("#cs-product-topics .cs-product-topic-title").first).to_have_text(
        TOPIC
    )
    await assert_no_violations(page, "console: record-wish dialog with suggestions")
    await browsing.screenshot("console-record-wish")
    await suggestion.check()
    await expect(page.locator("#cs-product-new-fields")).to_be_hidden()
    await page.locator("#cs-product-submit").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#cs-product-status")).to_have_text(f"Wish recorded on “{TOPIC}”.")

    detail = (await helper.get(f"/api/v1/topics/{topic}")).json()
    assert sorted(link["conversation_id"] for link in detail["links"]) == sorted(
        [helper_conv, conv]
    )
    assert detail["topic"]["mentions"] == 2
    # Tier 1 has no "File bug".
    await expect(page.locator("#cs-file-bug")).to_be_hidden()

    # Accepted on the board: the agent's timeline says so in the agent's language.
    product = await demo_live.agent("Pia Product", ["product"], online=False)
    for state in ("under_discussion", "accepted"):
        moved = await product.post(f"/api/v1/topics/{topic}/state", {"state": state})
        assert moved.status_code == 200, moved.text
    await expect(page.locator("#cs-timeline .cs-item--system").last).to_contain_text(
        f"Request REQ-1001 “{TOPIC}” is now: queued."
    )
    assert not browsing.errors


async def test_tier2_files_a_bug_with_steps_expected_and_actual(
    browsing: Browsing, demo_live: Live
) -> None:
    tier2 = await staff_sign_in(
        browsing, demo_live, "/console", "Kenji Tier2", ["technical_support"]
    )
    page = browsing.page
    await expect(page.locator("#sd-connection.is-live")).to_have_count(1)
    await set_presence(page, "online")
    # Tier 1 takes the question and hands it to the signed-in specialist.
    tier1 = await demo_live.agent("Aiko Agent", ["customer_support"])
    customer = await demo_live.customer(portal="acme", user="acme-admin", locale="en")
    conv = await open_chat(demo_live, customer, "The Gantt PDF export crashes with error 500")
    moved = await tier1.post(
        f"/api/v1/conversations/{conv}/transfer",
        {"to_tier": "technical_support", "note": "Crash on export", "preferred_agent_id": tier2},
    )
    assert moved.status_code == 200, moved.text

    await page.locator("#cs-mine .cs-conv").first.click()
    await page.locator("#cs-file-bug").click()
    await expect(page.locator("#cs-product-heading")).to_have_text("File a bug report")
    await expect(page.locator("#cs-bug-fields")).to_be_visible()
    await expect(page.locator("#cs-product-quote")).to_have_value(
        "The Gantt PDF export crashes with error 500"
    )
    await page.locator("#cs-bug-steps").fill("1. Open a Gantt chart\n2. Export as PDF")
    await page.locator("#cs-bug-expected").fill("A PDF file")
    await page.locator("#cs-bug-actual").fill("Error 500")
    await page.locator("#cs-product-title").fill("Gantt PDF export fails")
    await assert_no_violations(page, "console: file-bug dialog")
    await page.locator("#cs-product-submit").click()
    await expect(page.locator("#cs-product-status")).to_have_text(
        "Bug report filed on “Gantt PDF export fails”."
    )
    topics = (await tier1.get("/api/v1/topics")).json()
    found = next(t for t in topics if t["title"] == "Gantt PDF export fails")
    detail = (await tier1.get(f"/api/v1/topics/{found['id']}")).json()
    assert detail["links"][0]["kind"] == "bug"
    assert detail["links"][0]["actual"] == "Error 500"
    assert detail["links"][0]["conversation_id"] == conv
    assert not browsing.errors


async def test_confirming_a_bug_on_the_board_creates_a_bug_request(
    browsing: Browsing, demo_live: Live
) -> None:
    tier1 = await demo_live.agent("Aiko Agent", ["customer_support"])
    tier2 = await demo_live.agent("Kenji Tier2", ["technical_support"])
    customer = await demo_live.customer(portal="beta", user="b1")
    conv = await open_chat(demo_live, customer, "Saving a form fails with error 500")
    moved = await tier1.post(
        f"/api/v1/conversations/{conv}/transfer",
        {"to_tier": "technical_support", "note": "Reproduced", "preferred_agent_id": tier2.id},
    )
    assert moved.status_code == 200, moved.text
    filed = await tier2.post(
        f"/api/v1/conversations/{conv}/bugs",
        {
            "quote": "Saving a form fails with error 500",
            "steps": "Open a form, press Save",
            "expected": "Saved",
            "actual": "Error 500",
            "attachment_ids": [],
            "new_topic": {"title": "Form save fails", "description": ""},
        },
    )
    assert filed.status_code == 201, filed.text

    page = await board_sign_in(browsing, demo_live)
    await page.locator("#bd-rows .bd-topic-link").first.click()
    bug = page.locator("#bd-links .bd-link--bug")
    await expect(bug.locator(".bd-bug")).to_contain_text("Error 500")
    await assert_no_violations(page, "board: a bug report")
    await bug.locator(".bd-confirm-bug").click()
    await expect(page.locator("#bd-notice")).to_have_text(
        "Bug confirmed: request REQ-1001 created."
    )
    await expect(page.locator("#bd-detail-heading")).to_be_focused()
    queued = page.locator(".bd-column--queued .bd-request")
    await expect(queued.locator(".bd-req-number")).to_have_text("REQ-1001")
    await expect(queued.locator(".bd-request-head")).to_contain_text("Bug")
    await expect(bug.locator(".bd-confirm-bug")).to_have_count(0)
    assert not browsing.errors
