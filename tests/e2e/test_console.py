"""The agent console in real Chromium: agents sign in through the page; customers act
through the API (``demo_live.customer(...)`` actors) and their sockets."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Page, expect

from ..factories import Actor, Live, key
from .conftest import Browsing, staff_sign_in
from .test_accessibility import assert_no_violations

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
async def second(new_browsing: Callable[[], Awaitable[Browsing]]) -> Browsing:
    """A second browser context: another agent's console beside the first."""
    return await new_browsing()


async def sign_in(
    b: Browsing,
    live: Live,
    name: str,
    roles: list[str],
    *,
    locale: str = "en",
    online: bool = True,
) -> int:
    """Create an agent and sign in through the console's own login form."""
    agent_id = await staff_sign_in(b, live, "/console", name, roles, locale)
    page = b.page
    await expect(page.locator("#sd-connection.is-live")).to_have_count(1)
    if online:
        await set_presence(page, "online")
    return agent_id


async def set_presence(page: Page, presence: str) -> None:
    async with page.expect_response("**/api/v1/staff/me/presence") as response:
        await page.locator("#cs-presence").select_option(presence)
    assert (await response.value).ok


async def ask(customer: Actor, body: str) -> int:
    response = await customer.post("/api/v1/conversations", {"body": body, "client_key": key()})
    assert response.status_code == 201, response.text
    return int(response.json()["conversation"]["id"])


async def say(customer: Actor, cid: int, body: str) -> None:
    response = await customer.post(
        f"/api/v1/conversations/{cid}/messages", {"body": body, "client_key": key()}
    )
    assert response.status_code == 201, response.text


def chat_entry(page: Page, cid: int, where: str = "#cs-mine"):  # type: ignore[no-untyped-def]
    return page.locator(f"{where} .cs-conv[data-conversation='{cid}']")


def timeline_item(page: Page, text: str):  # type: ignore[no-untyped-def]
    return page.locator("#cs-timeline .cs-item").filter(has_text=text)


async def shows(page: Page, text: str) -> None:
    """The open conversation's timeline shows exactly one item with this text."""
    await expect(timeline_item(page, text)).to_have_count(1)


async def test_question_arrives_live_and_replies_flow_both_ways(
    browsing: Browsing, demo_live: Live
) -> None:
    page = browsing.page
    await sign_in(browsing, demo_live, "Aiko Agent", ["customer_support"], online=False)
    customer = await demo_live.customer(portal="acme", user="hana")

    # Offline: the question waits in the tier-1 queue, which updates without a reload.
    cid = await ask(customer, "The CSV export times out.")
    queue = page.locator(".cs-queue[data-tier='customer_support']")
    await expect(queue.locator(".cs-queue-waiting")).to_have_text("1 waiting")
    await expect(chat_entry(page, cid, ".cs-queue")).to_contain_text("The CSV export times out.")
    await expect(queue.locator(".cs-age")).not_to_be_empty()

    # Going online takes it: it leaves the queue and becomes one of my chats.
    await set_presence(page, "online")
    await expect(queue.locator(".cs-queue-waiting")).to_have_text("0 waiting")
    await chat_entry(page, cid).click()
    await expect(timeline_item(page, "The CSV export times out.")).to_have_class(
        "cs-item cs-item--message cs-item--customer"
    )
    await shows(page, "Aiko Agent (Customer support (tier 1)) took")
    await expect(page.locator("#cs-customer")).to_contain_text("acme")

    async with customer.socket() as sock:
        await sock.send({"type": "resume", "cursors": {str(cid): 0}})
        # The customer's next message appears live, and so does their typing.
        await sock.send({"type": "typing", "conversation_id": cid})
        await expect(page.locator("#cs-typing")).to_have_text("hana is typing…")
        await say(customer, cid, "It fails on big portals only.")
        await shows(page, "It fails on big portals only.")

        # Shift+Enter adds a line; Enter sends the whole message.
        body = page.locator("#cs-body")
        await body.focus()
        await page.keyboard.type("Which browser?")
        typing = await sock.wait_for(
            lambda f: f["type"] == "typing" and f["who"]["type"] == "agent"
        )
        assert typing["who"]["name"] == "Aiko Agent" and typing["conversation_id"] == cid
        await page.keyboard.press("Shift+Enter")
        await page.keyboard.type("And which plan?")
        await expect(body).to_have_value("Which browser?\nAnd which plan?")
        await expect(page.locator("#cs-timeline .cs-item--own")).to_have_count(0)
        await page.keyboard.press("Enter")
        await expect(body).to_have_value("")
        reply = await sock.wait_item(cid, lambda item: item["author"]["type"] == "agent")
        assert reply["body"] == "Which browser?\nAnd which plan?"
        assert reply["author"]["name"] == "Aiko Agent"
        mine = page.locator("#cs-timeline .cs-item--own")
        await expect(mine).to_have_count(1)
        await expect(mine.locator(".cs-item-body")).to_have_text("Which browser?\nAnd which plan?")

        # An internal note is styled apart and never reaches the customer.
        await page.locator("#cs-internal").check()
        await expect(page.locator("#cs-composer")).to_have_class("cs-composer is-note")
        await body.fill("Probably the 30 s proxy timeout.")
        await body.press("Enter")
        note = page.locator("#cs-timeline .cs-item--note")
        await expect(note).to_have_count(1)
        await expect(note.locator(".cs-note-label")).to_have_text("Internal note")
        await expect(note.locator(".cs-item-body")).to_have_text("Probably the 30 s proxy timeout.")
        await page.locator("#cs-internal").uncheck()
        await body.fill("Thanks, looking into it.")
        await body.press("Enter")
        await sock.wait_item(cid, lambda item: item["body"] == "Thanks, looking into it.")
        assert not [f for f in sock.seen if f.get("item", {}).get("kind") == "note"]
    items = (await customer.get(f"/api/v1/conversations/{cid}/items")).json()
    assert "note" not in {item["kind"] for item in items}
    assert "Probably the 30 s proxy timeout." not in {item["body"] for item in items}

    # Script in a customer's message stays text.
    await say(customer, cid, XSS)
    await expect(timeline_item(page, XSS).locator(".cs-item-body")).to_have_text(XSS)
    await expect(page.locator("#cs-timeline img")).to_have_count(0)
    await browsing.screenshot("console-chat")
    assert browsing.dialogs == []
    assert browsing.errors == []


async def test_transfer_needs_a_note_and_reaches_tier_two_with_history(
    browsing: Browsing, second: Browsing, demo_live: Live
) -> None:
    tier1, tier2 = browsing.page, second.page
    await sign_in(browsing, demo_live, "Aiko Agent", ["customer_support"])
    await sign_in(second, demo_live, "Kenji Specialist", ["technical_support"])
    await sign_in_specialist_elsewhere(demo_live)
    customer = await demo_live.customer(portal="acme", user="hana")
    cid = await ask(customer, "Webhooks stopped arriving yesterday.")

    await chat_entry(tier1, cid).click()
    await shows(tier1, "Webhooks stopped arriving yesterday.")
    await tier1.locator("#cs-transfer").click()
    dialog = tier1.locator("#cs-transfer-dialog")
    await expect(dialog).to_be_visible()
    await expect(tier1.locator("#cs-transfer-heading")).to_have_text(
        "Transfer to Technical support (tier 2)"
    )

    # The form refuses an empty note; a blank one is refused by the server (422).
    await tier1.locator("#cs-transfer-submit").click()
    await expect(tier1.locator("#cs-transfer-error")).to_have_text(
        "Write a handoff note before transferring."
    )
    await expect(tier1.locator("#cs-transfer-note")).to_be_focused()
    await tier1.locator("#cs-transfer-note").fill("   ")
    async with tier1.expect_response(f"**/conversations/{cid}/transfer") as refused:
        await tier1.locator("#cs-transfer-submit").click()
    assert (await refused.value).status == 422
    await expect(tier1.locator("#cs-transfer-error")).to_have_text(
        "A handoff note is required when transferring."
    )
    await expect(dialog).to_be_visible()
    conv = (await customer.get(f"/api/v1/conversations/{cid}")).json()
    assert conv["tier"] == "customer_support" and conv["state"] == "assigned"

    # A note and a preferred specialist (the one who is not the least busy).
    await tier1.locator("#cs-transfer-note").fill("Webhook deliveries fail with 410; check logs.")
    specialist = tier1.locator("#cs-transfer-specialist")
    await expect(specialist.locator("option")).to_have_count(3)
    await specialist.select_option(label="Kenji Specialist (Online, 0 open)")
    await browsing.screenshot("console-transfer-dialog")
    await tier1.locator("#cs-transfer-submit").click()
    await expect(dialog).to_be_hidden()
    await expect(tier1.locator("#cs-chat-meta")).to_contain_text("Technical support (tier 2)")
    await expect(tier1.locator("#cs-readonly")).to_have_text(
        "You can read this conversation but not write in it."
    )
    await expect(chat_entry(tier1, cid)).to_have_count(0)

    # Tier 2's console shows it live, with the history and the handoff note.
    await chat_entry(tier2, cid).click()
    await shows(tier2, "Webhooks stopped arriving yesterday.")
    handoff = tier2.locator("#cs-timeline .cs-item--note")
    await expect(handoff.locator(".cs-note-label")).to_have_text(
        "Handoff note to Technical support (tier 2)"
    )
    await expect(handoff.locator(".cs-item-body")).to_have_text(
        "Webhook deliveries fail with 410; check logs."
    )
    await expect(handoff.locator(".cs-author")).to_have_text("Aiko Agent")
    await expect(
        timeline_item(
            tier2, "Transferred from Customer support (tier 1) to Technical support (tier 2)."
        )
    ).to_have_count(1)
    await expect(tier2.locator("#cs-history-empty")).to_be_visible()
    await second.screenshot("console-tier2-after-transfer")

    # Tier 2 resolves it.
    await tier2.locator("#cs-resolve").click()
    await shows(tier2, "Kenji Specialist resolved the conversation.")
    await shows(tier2, "The customer was asked to rate the conversation.")
    await expect(tier2.locator("#cs-chat-meta")).to_contain_text("Resolved")
    await expect(tier2.locator("#cs-resolve")).to_be_hidden()
    await expect(chat_entry(tier2, cid)).to_have_count(0)
    assert (await customer.get(f"/api/v1/conversations/{cid}")).json()["state"] == "resolved"
    assert browsing.errors == [] and second.errors == []


async def sign_in_specialist_elsewhere(live: Live) -> None:
    """A second, idle specialist, so that the preferred one is a real choice."""
    await live.agent("Mika Specialist", ["technical_support"])


async def test_unread_badge_appears_live_and_clears_when_opened(
    browsing: Browsing, demo_live: Live
) -> None:
    page = browsing.page
    await sign_in(browsing, demo_live, "Aiko Agent", ["customer_support"])
    first_customer = await demo_live.customer(portal="acme", user="hana")
    second_customer = await demo_live.customer(portal="globex", user="jun")
    first = await ask(first_customer, "First question")
    second = await ask(second_customer, "Second question")
    badge = chat_entry(page, second).locator(".cs-badge")
    await expect(badge).to_have_count(1)  # the question and the assignment are unread

    # Open the second (it is read), then the first: a new message in the second shows a
    # badge without a reload.
    await chat_entry(page, second).click()
    await shows(page, "Second question")
    await expect(badge).to_have_count(0)
    await chat_entry(page, first).click()
    await shows(page, "First question")
    await say(second_customer, second, "Any news?")
    await expect(badge).to_have_text("1")
    await expect(badge).to_have_attribute("aria-label", "1 unread")
    await browsing.screenshot("console-unread-badge")

    # Opening it clears the badge, on the server too.
    async with page.expect_response(f"**/conversations/{second}/read") as read:
        await chat_entry(page, second).click()
    assert (await read.value).ok
    await shows(page, "Any news?")
    await expect(badge).to_have_count(0)
    await page.reload()
    await expect(chat_entry(page, second)).to_have_count(1)
    await expect(chat_entry(page, first).locator(".cs-badge")).to_have_count(0)
    await expect(badge).to_have_count(0)
    assert browsing.errors == []


async def test_japanese_agent_sees_japanese(browsing: Browsing, demo_live: Live) -> None:
    page = browsing.page
    await sign_in(browsing, demo_live, "Yui Agent", ["customer_support"], locale="ja")
    await expect(page.locator("#cs-mine-heading")).to_have_text("担当中のチャット")
    await expect(page.locator("#cs-presence option:checked")).to_have_text("オンライン")
    customer = await demo_live.customer(portal="acme", user="hana", locale="ja")
    cid = await ask(customer, "ログインできません。")
    await chat_entry(page, cid).click()
    await shows(page, "Yui Agent（カスタマーサポート（一次対応））が担当になりました。")
    await expect(page.locator("#cs-body-label")).to_have_text("お客様への返信")
    await expect(page.locator("#cs-transfer")).to_have_text("テクニカルサポート（二次対応）へ転送")
    await expect(page.locator("#cs-customer-heading")).to_have_text("お客様情報")
    await expect(page.locator(".cs-queue h2")).to_have_text(
        "キュー: カスタマーサポート（一次対応）"
    )
    await browsing.screenshot("console-japanese")

    # Switching the language in the header re-renders the console at once.
    await page.locator("#sd-language").select_option("en")
    await expect(page.locator("#cs-mine-heading")).to_have_text("My chats")
    await expect(page.locator("#cs-body-label")).to_have_text("Reply to the customer")
    await shows(page, "Yui Agent (Customer support (tier 1)) took the conversation.")
    assert browsing.errors == []


async def test_supervisor_finds_a_conversation_and_reassigns_it(
    browsing: Browsing, demo_live: Live
) -> None:
    page = browsing.page
    aiko = await demo_live.agent("Aiko Agent", ["customer_support"])
    ben = await demo_live.agent("Ben Agent", ["customer_support"], online=False)
    customer = await demo_live.customer(portal="initech", user="mo")
    cid = await ask(customer, "Invoices show the wrong tax rate.")
    await sign_in(browsing, demo_live, "Sara Supervisor", ["supervisor"], online=False)

    # Search by number, then by portal; a result opens the conversation.
    await page.locator("#cs-search-q").fill(f"#{cid}")
    await page.locator("#cs-search-q").press("Enter")
    await expect(page.locator("#cs-search-status")).to_have_text("1 found")
    await page.locator("#cs-search-q").fill("initech")
    await page.locator("#cs-search button[type=submit]").click()
    result = chat_entry(page, cid, "#cs-search-results")
    await expect(result).to_contain_text("Invoices show the wrong tax rate.")
    await result.click()
    await expect(page.locator("#cs-chat-meta")).to_contain_text(f"with {aiko.name}")

    # Reassign to Ben, by keyboard-operable form controls.
    await page.locator("#cs-reassign-agent").select_option(label="Ben Agent (Offline, 0 open)")
    await page.locator("#cs-reassign button[type=submit]").click()
    await expect(page.locator("#cs-chat-meta")).to_contain_text("with Ben Agent")
    await shows(page, "Ben Agent (Customer support (tier 1)) took")
    conv = (await customer.get(f"/api/v1/conversations/{cid}")).json()
    assert conv["assigned_agent"]["id"] == ben.id
    assert browsing.errors == []


async def test_saved_reply_picker_takes_enter_while_open(
    browsing: Browsing, demo_live: Live
) -> None:
    page = browsing.page
    await sign_in(browsing, demo_live, "Aiko Agent", ["customer_support"])
    customer = await demo_live.customer(portal="acme", user="hana")
    cid = await ask(customer, "Should I send you my password?")
    await chat_entry(page, cid).click()
    body = page.locator("#cs-body")
    own = page.locator("#cs-timeline .cs-item--own")
    await body.press_sequentially("/password")
    await expect(page.locator(".sd-rp [role=option]").first).to_be_visible()
    await body.press("Enter")  # chooses the reply: nothing is sent yet
    await expect(body).to_have_value(re.compile("never ask for your password"))
    await expect(own).to_have_count(0)
    await body.press("Enter")
    await expect(own).to_have_count(1)
    await expect(own.locator(".cs-item-body")).to_contain_text("never ask for your password")
    assert browsing.errors == []


async def test_console_passes_axe_and_works_by_keyboard(
    browsing: Browsing, demo_live: Live
) -> None:
    page = browsing.page
    await sign_in(browsing, demo_live, "Aiko Agent", ["customer_support"])
    await demo_live.agent("Kenji Specialist", ["technical_support"])
    customer = await demo_live.customer(portal="acme", user="hana")
    cid = await ask(customer, "The dashboard is blank.")
    await expect(chat_entry(page, cid)).to_have_count(1)

    # Keyboard only: Tab to the chat, Enter opens it and puts the cursor in the composer.
    await page.locator("#cs-search-q").focus()
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await chat_entry(page, cid).evaluate("el => el === document.activeElement"):
            break
    await page.keyboard.press("Enter")
    await expect(page.locator("#cs-body")).to_be_focused()
    await shows(page, "The dashboard is blank.")
    await assert_no_violations(page, "console: chat open")

    # The transfer dialog by keyboard: Shift+Tab back to the actions, Escape closes.
    await page.locator("#cs-transfer").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#cs-transfer-note")).to_be_focused()
    await assert_no_violations(page, "console: transfer dialog")
    await page.keyboard.press("Escape")
    await expect(page.locator("#cs-transfer-dialog")).to_be_hidden()
    await page.locator("#cs-transfer").focus()
    await page.keyboard.press("Enter")
    await page.keyboard.type("Blank dashboard on Safari only; needs a specialist.")
    await page.keyboard.press("Tab")  # the note's hint is text; next is the specialist
    await expect(page.locator("#cs-transfer-specialist")).to_be_focused()
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    await expect(page.locator("#cs-transfer-submit")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#cs-transfer-dialog")).to_be_hidden()
    await expect(page.locator("#cs-chat-meta")).to_contain_text("Technical support (tier 2)")
    assert browsing.errors == []


async def test_dropped_socket_reconnects_and_loses_nothing(
    browsing: Browsing, demo_live: Live
) -> None:
    page = browsing.page
    await sign_in(browsing, demo_live, "Aiko Agent", ["customer_support"])
    customer = await demo_live.customer(portal="acme", user="hana")
    cid = await ask(customer, "First message")
    await chat_entry(page, cid).click()
    await shows(page, "First message")

    await page.evaluate("window.__console.drop()")
    for n in range(3):
        await say(customer, cid, f"Sent around the drop {n}")
    await page.wait_for_function("() => window.__console.connected()")
    for n in range(3):
        await shows(page, f"Sent around the drop {n}")
    # In order, once each.
    bodies = await page.locator("#cs-timeline .cs-item--customer .cs-item-body").all_text_contents()
    assert bodies == ["First message"] + [f"Sent around the drop {n}" for n in range(3)]
    assert browsing.errors == []
