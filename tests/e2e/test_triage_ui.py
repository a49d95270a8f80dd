"""Triage in real Chromium: the widget coaches a vague question before it is sent (what is
missing, in the customer's language), explains out-of-scope work with matching partners;
the console's triage panel sends a partner card with one click, the customer asks a
partner and sees the lead confirmation; a vendor card reaches the customer; "ask for
specifics" posts the missing items in the customer's language.  axe-clean on each state.

The demo customer 0 is a Japanese commercial admin; the partners are the demo directory
(``supportdesk.demo.DEMO_PARTNERS``), not loaded in tests unless a test does.
"""

from __future__ import annotations

from playwright.async_api import FrameLocator, Page, expect

from supportdesk.demo import DEMO_PARTNERS
from supportdesk.partners.actions import import_partners
from supportdesk.partners.rules import parse_csv

from ..factories import Live
from .conftest import Browsing, staff_sign_in
from .test_accessibility import assert_no_violations
from .test_console import set_presence
from .test_widget import ADMIN, connected, open_widget, widget_frame

VAGUE = "ワークフローが作動しません。何とかしてください。"
OUT_OF_SCOPE = "承認ワークフローを一から設計して、全部作ってもらえませんか。"


async def load_partners(live: Live) -> None:
    report = await import_partners(live.svc, parse_csv(DEMO_PARTNERS.read_text(encoding="utf-8")))
    assert report.created >= 3, report


async def console_agent(b: Browsing, live: Live, name: str = "Aiko Agent") -> Page:
    """A tier-1 agent, online, so the next question is assigned to them."""
    await staff_sign_in(b, live, "/console", name, ["customer_support"])
    page = b.page
    await expect(page.locator("#sd-connection.is-live")).to_have_count(1)
    await set_presence(page, "online")
    return page


async def open_first_chat(page: Page) -> None:
    await page.locator("#cs-mine .cs-conv").first.click()
    await expect(page.locator("#cs-timeline .cs-item")).not_to_have_count(0)
    await expect(page.locator("#cs-triage")).to_be_visible()


async def send_anyway(frame: FrameLocator, question: str) -> None:
    await frame.locator("#triage-send-anyway").click()
    await expect(frame.locator("#view-chat")).to_be_visible()
    await expect(frame.locator(".sd-mine .sd-body").first).to_have_text(question)


async def test_a_vague_question_is_coached_before_sending_and_the_agent_asks_for_specifics(
    browsing: Browsing, new_browsing, demo_live: Live
) -> None:
    console = await new_browsing()
    page = await console_agent(console, demo_live)

    frame = await open_widget(browsing, ADMIN)
    await frame.locator("#ask-body").fill(VAGUE)
    await frame.locator("#ask-form button[type=submit]").click()
    # Send is held once: the coaching shows what is missing, in Japanese; nothing is sent.
    coaching = frame.locator("#triage-box")
    await expect(coaching).to_have_attribute("data-kind", "vague")
    await expect(frame.locator("#triage-heading")).to_be_focused()
    await expect(frame.locator("#triage-heading")).to_have_text(
        "もう少し詳しく教えていただけると、早くお答えできます"
    )
    missing = coaching.locator("li[data-missing]")
    await expect(missing).not_to_have_count(0)
    await expect(coaching.locator("li[data-missing=which_object]")).to_have_text(
        "どのワークフロー（またはレコード・アプリ・ページ）のことですか？"
    )
    await expect(frame.locator("#view-home")).to_be_visible()
    await expect(frame.locator("#view-chat")).to_be_hidden()
    await assert_no_violations(widget_frame(browsing), "widget: coaching for a vague question")
    await browsing.screenshot("triage-widget-coaching")

    # "Add details" goes back to the text; "Send anyway" sends it as it is.
    await frame.locator("#triage-add-details").click()
    await expect(frame.locator("#ask-body")).to_be_focused()
    await send_anyway(frame, VAGUE)
    await expect(frame.locator("#triage-box")).to_be_hidden()
    await expect(frame.locator("#chat-status")).to_contain_text("Aiko Agent")
    await connected(browsing)

    # The console shows the stored triage with the missing items, and asks for them.
    await open_first_chat(page)
    panel = page.locator("#cs-triage")
    await expect(panel).to_contain_text("Technical problem")
    await expect(panel.locator(".cs-triage-quality")).to_have_text("Vague")
    await expect(panel.locator("li[data-missing=which_object]")).to_be_visible()
    await assert_no_violations(page, "console: triage panel of a vague request")
    await console.screenshot("triage-console-vague")
    # "Search help articles" puts the customer's question into the KB side panel.
    await page.locator("#cs-triage-kb").click()
    await expect(page.locator("#cs-kb-q")).to_have_value(VAGUE)

    await page.locator("#cs-triage-ask").click()
    await expect(page.locator("#cs-triage-status")).to_have_text(
        "Asked the customer for the missing details."
    )
    # The customer reads it in Japanese (the conversation's language, not the agent's).
    request = frame.locator(".sd-theirs .sd-body").last
    await expect(request).to_contain_text("確認のため、次の点を教えていただけますでしょうか。")
    await expect(request).to_contain_text(
        "・対象のワークフロー（またはレコード・アプリ・ページ）の名前"
    )
    await browsing.screenshot("triage-widget-asked-for-specifics")
    assert not console.errors and not browsing.errors


async def test_coaching_shows_while_typing_and_send_is_not_held_again(
    browsing: Browsing, demo_live: Live
) -> None:
    question = "ワークフローが動きません。直してください。"
    await demo_live.agent("Ben Agent", ["customer_support"])
    frame = await open_widget(browsing, ADMIN)
    box = frame.locator("#ask-body")
    await box.click()
    await box.page.keyboard.type(question)
    # Shown after a pause in typing, without pressing Send.
    coaching = frame.locator("#triage-box")
    await expect(coaching).to_have_attribute("data-kind", "vague")
    await expect(coaching.locator("li[data-missing=expected_vs_actual]")).to_have_text(
        "どうなるはずで、実際にはどうなりましたか？"
    )
    await expect(coaching.get_by_role("button", name="このまま送信する")).to_be_visible()
    # The customer has seen the advice: Send sends at once.
    await frame.locator("#ask-form button[type=submit]").click()
    await expect(frame.locator("#view-chat")).to_be_visible()
    await expect(frame.locator(".sd-mine .sd-body")).to_have_text(question)
    # Back home, the coaching of the sent question is gone.
    await frame.locator("#sd-back").click()
    await expect(frame.locator("#view-home")).to_be_visible()
    await expect(coaching).to_be_hidden()
    assert not browsing.errors


async def test_tier1_sends_a_partner_card_and_the_customer_asks_a_partner(
    browsing: Browsing, new_browsing, demo_live: Live
) -> None:
    await load_partners(demo_live)
    console = await new_browsing()
    page = await console_agent(console, demo_live)

    frame = await open_widget(browsing, ADMIN)
    await frame.locator("#ask-body").fill(OUT_OF_SCOPE)
    await frame.locator("#ask-form button[type=submit]").click()
    # Out of scope: the policy, kindly, and the partners who do this work.
    coaching = frame.locator("#triage-box")
    await expect(coaching).to_have_attribute("data-kind", "scope")
    await expect(coaching).to_contain_text("認定パートナーが承っている作業です")
    await expect(coaching.locator(".sd-partner").first).to_be_visible()
    await expect(coaching.locator(".sd-partner-name").first).to_have_text("Sakura Solutions")
    await assert_no_violations(widget_frame(browsing), "widget: out-of-scope coaching")
    await browsing.screenshot("triage-widget-out-of-scope")
    await send_anyway(frame, OUT_OF_SCOPE)
    await expect(frame.locator("#chat-status")).to_contain_text("Aiko Agent")
    await connected(browsing)

    # One click from the triage hint sends the partner card.
    await open_first_chat(page)
    panel = page.locator("#cs-triage")
    await expect(panel).to_contain_text("Out of scope")
    send = page.locator("#cs-triage-partner")
    await expect(send).to_contain_text("workflows")
    await send.click()
    sent = page.locator("#cs-timeline .cs-item--partner_referral")
    await expect(sent).to_have_count(1)
    await expect(sent).to_contain_text("Sakura Solutions")
    await expect(page.locator("#cs-triage-status")).to_have_text("Partner card sent.")
    await assert_no_violations(page, "console: triage panel and partner card")
    await console.screenshot("triage-console-partner-card")

    # The customer gets the card live, asks a partner, and sees the confirmation.
    card = frame.locator(".sd-partner-card")
    await expect(card).to_be_visible()
    first = card.locator(".sd-partner").first
    await expect(first.locator(".sd-partner-name")).to_have_text("Sakura Solutions")
    await expect(first.locator(".sd-partner-text")).to_contain_text("東京の認定パートナー")
    await assert_no_violations(widget_frame(browsing), "widget: partner card")
    ask = first.get_by_role("button", name="Sakura Solutionsに連絡を依頼する")
    await ask.click()
    await expect(first.locator(".sd-ref-status")).to_have_text(
        "Sakura Solutionsに依頼を送りました。パートナーからご連絡します。"
    )
    await expect(ask).to_be_disabled()
    confirmation = frame.locator(".sd-lead-confirmation")
    await expect(confirmation).to_have_count(1)
    await expect(confirmation).to_contain_text("Sakura Solutions にご依頼を送りました。")
    await assert_no_violations(widget_frame(browsing), "widget: lead confirmation")
    await browsing.screenshot("triage-widget-lead-confirmation")
    # The agent sees it too.
    await expect(page.locator("#cs-timeline .cs-item--lead_confirmation")).to_contain_text(
        "The customer asked Sakura Solutions to contact them."
    )
    assert not console.errors and not browsing.errors


async def test_a_marketplace_app_question_gets_the_vendor_and_a_vendor_card(
    browsing: Browsing, new_browsing, demo_live: Live
) -> None:
    question = "ガントプラスのガントチャートで、タスクのバーが表示されなくなりました。"
    console = await new_browsing()
    page = await console_agent(console, demo_live)

    frame = await open_widget(browsing, ADMIN)
    await frame.locator("#ask-body").fill(question)
    await frame.locator("#ask-form button[type=submit]").click()
    # Before sending: the app's developer and their contacts.
    coaching = frame.locator("#triage-box")
    await expect(coaching).to_have_attribute("data-kind", "app")
    await expect(coaching).to_contain_text("Timeline Labs")
    await expect(coaching.locator("a[href='mailto:help@timelinelabs.example.com']")).to_be_visible()
    await assert_no_violations(widget_frame(browsing), "widget: marketplace-app coaching")
    await browsing.screenshot("triage-widget-marketplace-app")
    await send_anyway(frame, question)
    await expect(frame.locator("#chat-status")).to_contain_text("Aiko Agent")
    await connected(browsing)

    await open_first_chat(page)
    await expect(page.locator("#cs-triage")).to_contain_text("Marketplace app")
    await page.locator("#cs-triage-vendor").click()
    await expect(page.locator("#cs-timeline .cs-item--vendor_referral")).to_contain_text(
        "Gantt Plus"
    )
    await expect(page.locator("#cs-triage-status")).to_have_text("Vendor card sent.")

    card = frame.locator(".sd-vendor-card")
    await expect(card).to_be_visible()
    await expect(card.locator(".sd-ref-app")).to_have_text("ガントプラス（Timeline Labs）")
    await expect(card.locator(".sd-ref-policy")).to_contain_text("開発元にお問い合わせください")
    site = card.locator("a[href='https://timelinelabs.example.com/help']")
    await expect(site).to_contain_text("サポートサイト")
    await expect(site).to_have_attribute("target", "_blank")
    await assert_no_violations(widget_frame(browsing), "widget: vendor card")
    await browsing.screenshot("triage-widget-vendor-card")
    assert not console.errors and not browsing.errors
