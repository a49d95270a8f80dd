"""Saved replies in real Chromium: a supervisor manages them on /supervisor/replies, the
``/`` picker inserts them into a textarea (the page's practice box, the same picker as
the console's composer), and other agents cannot manage them."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from ..factories import Live
from .conftest import Browsing, staff_sign_in
from .test_accessibility import assert_no_violations

PAGE = "/supervisor/replies"


async def sign_in(b: Browsing, live: Live, name: str, roles: list[str], locale: str = "en") -> Page:
    await staff_sign_in(b, live, PAGE, name, roles, locale)
    return b.page


def row(page: Page, shortcut: str, locale: str = "English"):
    return page.locator("#rp-rows tr").filter(has_text=f"/{shortcut}").filter(has_text=locale)


async def test_supervisor_creates_a_reply_and_the_picker_inserts_it(
    browsing: Browsing, demo_live: Live
) -> None:
    page = await sign_in(browsing, demo_live, "Sara Lind", ["supervisor"])
    await expect(page.locator("#rp-manage")).to_be_visible()
    # The policy replies come with every installation, in both languages.
    for shortcut in ("no-phone", "password", "describe-problem"):
        await expect(row(page, shortcut, "English")).to_have_count(1)
        await expect(row(page, shortcut, "Japanese")).to_have_count(1)

    await page.get_by_role("button", name="New saved reply").click()
    await expect(page.locator("#rp-shortcut")).to_be_focused()
    await page.locator("#rp-shortcut").fill("refund")
    await page.locator("#rp-locale").select_option("en")
    await page.locator("#rp-title").fill("Refund policy")
    await page.locator("#rp-body").fill("Refunds are processed within 5 business days.")
    await page.locator("#rp-save").click()
    await expect(page.locator("#rp-notice")).to_have_text("Saved /refund.")
    await expect(row(page, "refund")).to_contain_text("Refund policy")
    await expect(page.locator("#rp-editor")).to_be_hidden()

    # A duplicate shortcut is refused with the server's message, next to the form.
    await page.get_by_role("button", name="New saved reply").click()
    await page.locator("#rp-shortcut").fill("refund")
    await page.locator("#rp-locale").select_option("en")
    await page.locator("#rp-title").fill("Another")
    await page.locator("#rp-body").fill("Another text")
    await page.locator("#rp-save").click()
    await expect(page.locator("#rp-form-error")).to_contain_text("/refund already exists")
    await page.locator("#rp-cancel").click()

    # The filter searches shortcut, title and text.
    await page.locator("#rp-q").fill("business days")
    await expect(page.locator("#rp-rows tr")).to_have_count(1)
    await expect(row(page, "refund")).to_have_count(1)
    await browsing.screenshot("saved-replies-management")

    # "/" + typing + Enter in a picker textarea inserts the reply.
    await page.locator("#rp-try-locale").select_option("en")
    practice = page.locator("#rp-try")
    picker = page.get_by_role("listbox", name="Saved replies")
    await practice.click()
    await page.keyboard.type("Hello! /refu")
    option = picker.get_by_role("option").filter(has_text="/refund")
    await expect(option).to_be_visible()
    await expect(option).to_have_attribute("aria-selected", "true")
    await expect(practice).to_have_attribute(
        "aria-activedescendant", await option.get_attribute("id") or ""
    )
    await assert_no_violations(page, "saved replies page with the picker open")
    await browsing.screenshot("saved-replies-picker")
    await page.keyboard.press("Enter")
    # Enter inserted the reply; it added no new line (the event was prevented).
    await expect(practice).to_have_value("Hello! Refunds are processed within 5 business days.")
    await expect(picker).to_be_hidden()

    # The seeded Japanese policy reply is found by a Japanese word.
    await page.locator("#rp-try-locale").select_option("ja")
    await practice.fill("")
    await practice.click()
    await page.keyboard.type("/パスワード")
    japanese = picker.get_by_role("option").filter(
        has_text="パスワードをお伺いすることはありません"
    )
    await expect(japanese).to_be_visible()
    await expect(picker.get_by_role("option")).to_have_count(1)
    await page.keyboard.press("Enter")
    await expect(practice).to_have_value(
        re.compile(
            r"^安全のため、サポートからお客様のパスワードを.*いつでも取り消すことができます。$",
            re.S,
        )
    )

    # Arrow keys move through the matches, Tab inserts; Escape closes and keeps the text.
    await practice.fill("")
    await page.keyboard.type("/")
    await expect(picker.get_by_role("option")).to_have_count(3)  # the Japanese policies
    first = await picker.get_by_role("option").nth(0).inner_text()
    second = picker.get_by_role("option").nth(1)
    await page.keyboard.press("ArrowDown")
    await expect(second).to_have_attribute("aria-selected", "true")
    await page.keyboard.press("ArrowUp")
    await expect(picker.get_by_role("option").nth(0)).to_have_attribute("aria-selected", "true")
    assert first.startswith("/describe-problem")
    await page.keyboard.press("Tab")
    await expect(practice).to_have_value(re.compile(r"^迅速に解決するため"))
    await expect(practice).to_be_focused()
    await practice.fill("")
    await page.keyboard.type("Hi /no")
    await expect(picker.get_by_role("option")).to_have_count(1)
    await page.keyboard.press("Escape")
    await expect(picker).to_be_hidden()
    await expect(practice).to_have_value("Hi /no")

    # Edit, then delete through the confirmation dialog.
    await row(page, "refund").get_by_role("button", name="Edit /refund (English)").click()
    await page.locator("#rp-title").fill("Refunds and credits")
    await page.locator("#rp-save").click()
    await expect(row(page, "refund")).to_contain_text("Refunds and credits")
    await row(page, "refund").get_by_role("button", name="Delete /refund (English)").click()
    dialog = page.locator("#rp-confirm")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("Refunds and credits")
    await dialog.get_by_role("button", name="Delete").click()
    await expect(page.locator("#rp-notice")).to_have_text("Deleted /refund.")
    await expect(row(page, "refund")).to_have_count(0)
    assert browsing.errors == []


async def test_agents_who_are_not_supervisors_cannot_manage_replies(
    browsing: Browsing, demo_live: Live
) -> None:
    page = await sign_in(browsing, demo_live, "Aiko Agent", ["customer_support"], locale="ja")
    refusal = page.locator("#rp-refused")
    await expect(refusal).to_be_visible()
    await expect(refusal).to_contain_text("定型文を管理できるのはスーパーバイザーのみです")
    await expect(page.locator("#rp-manage")).to_be_hidden()
    await expect(page.get_by_role("button", name="定型文を追加")).to_have_count(0)
    # The header offers the page to supervisors only.
    await expect(page.locator('#sd-header a[href="/supervisor/replies"]')).to_be_hidden()
    await browsing.screenshot("saved-replies-refused")
    # And the API refuses the same session, not only the page.
    status = await page.evaluate(
        """() => SD.api("POST", "/api/v1/saved-replies",
              {shortcut: "x", title: "x", body: "x", locale: "en"})
            .then(() => 201, (err) => err.status)"""
    )
    assert status == 403
