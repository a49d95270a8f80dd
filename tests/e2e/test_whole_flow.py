"""The whole support flow in real Chromium, as people would do it: a customer in the
help widget on the host page, a tier-1 and a tier-2 agent each in their own console,
and a supervisor on the supervisor page, all in separate browser contexts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from playwright.async_api import expect

from ..factories import Live
from .conftest import Browsing
from .test_console import chat_entry, shows
from .test_console import sign_in as console_sign_in
from .test_supervisor import sign_in as supervisor_sign_in
from .test_widget import ADMIN, ask, connected, open_widget


async def test_customer_tier1_tier2_and_supervisor(
    browsing: Browsing, new_browsing: Callable[[], Awaitable[Browsing]], demo_live: Live
) -> None:
    tier1_console, tier2_console, supervisor_page = [await new_browsing() for _ in range(3)]
    customer_page, tier1, tier2 = browsing.page, tier1_console.page, tier2_console.page
    await console_sign_in(tier1_console, demo_live, "Aiko Agent", ["customer_support"])
    await console_sign_in(tier2_console, demo_live, "Kenji Specialist", ["technical_support"])

    # 1. The customer clicks "?", scrolls, clicks "Ask a question" and asks.
    widget = await open_widget(browsing, ADMIN)
    await ask(widget, "ワークフローの承認メールが届きません。")
    await connected(browsing)

    # 2. The question appears live in the tier-1 console, without a reload.
    await expect(widget.locator("#chat-status")).to_contain_text("Aiko Agent")
    entry = tier1.locator("#cs-mine .cs-conv").first
    await expect(entry).to_contain_text("ワークフローの承認メールが届きません。")
    cid = int(await entry.get_attribute("data-conversation") or 0)
    await entry.click()
    await shows(tier1, "ワークフローの承認メールが届きません。")

    # 3. Replies appear live on both sides.
    await tier1.locator("#cs-body").fill("Which workflow, and since when?")
    await tier1.locator("#cs-body").press("Enter")
    await expect(widget.locator(".sd-theirs .sd-body")).to_have_text(
        "Which workflow, and since when?"
    )
    await widget.locator("#chat-body").fill("経費精算のワークフローで、昨日からです。")
    await widget.locator("#chat-body").press("Enter")
    await shows(tier1, "経費精算のワークフローで、昨日からです。")

    # 4. Tier 1 transfers the chat with a note.
    await tier1.locator("#cs-transfer").click()
    await tier1.locator("#cs-transfer-note").fill("Approval mails stopped since yesterday.")
    await tier1.locator("#cs-transfer-submit").click()
    await expect(tier1.locator("#cs-transfer-dialog")).to_be_hidden()
    transferred = "お問い合わせをテクニカルサポートに引き継ぎました。"
    await expect(widget.locator(".sd-system").filter(has_text=transferred)).to_have_count(1)

    # 5. The tier-2 console shows it, with the history and the note.
    await chat_entry(tier2, cid).click()
    await shows(tier2, "ワークフローの承認メールが届きません。")
    await shows(tier2, "Which workflow, and since when?")
    await shows(tier2, "経費精算のワークフローで、昨日からです。")
    note = tier2.locator("#cs-timeline .cs-item--note")
    await expect(note.locator(".cs-item-body")).to_have_text(
        "Approval mails stopped since yesterday."
    )
    await expect(widget.locator("#chat-status")).to_contain_text("Kenji Specialist")
    await expect(widget.locator("#chat-items")).not_to_contain_text("Approval mails stopped")
    await tier2_console.screenshot("whole-flow-tier2")

    # 6. Tier 2 answers and resolves; the customer rates.
    await tier2.locator("#cs-body").fill("Fixed: the mail sender was re-verified.")
    await tier2.locator("#cs-body").press("Enter")
    await expect(widget.locator(".sd-theirs .sd-body").last).to_have_text(
        "Fixed: the mail sender was re-verified."
    )
    await tier2.locator("#cs-resolve").click()
    await widget.get_by_role("button", name="5 段階中 5").click()
    await widget.get_by_role("button", name="評価を送信").click()
    await expect(widget.locator(".sd-thanks")).to_have_text("ご評価ありがとうございました。")
    await browsing.screenshot("whole-flow-widget")

    # 7. The supervisor's CSAT chart and table include the rating, for both agents.
    await supervisor_sign_in(supervisor_page, demo_live, "Sara Supervisor", ["supervisor"])
    supervisor = supervisor_page.page
    bar = supervisor.locator("#sv-csat svg g.sd-bar[data-label='5']")
    await expect(bar).to_have_attribute("data-value", "1")
    table = supervisor.locator("#sv-csat-table tbody")
    await expect(table).to_contain_text("Aiko Agent")
    await expect(table).to_contain_text("Kenji Specialist")
    await supervisor_page.screenshot("whole-flow-supervisor")
    for b in (browsing, tier1_console, tier2_console, supervisor_page):
        assert b.errors == [] and b.dialogs == []
    assert customer_page.url.endswith("/demo/host?user=0")
