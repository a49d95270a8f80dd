"""Accessibility: axe-core (shipped inside axe-playwright-python, no download) finds no
WCAG 2 A/AA violation, colour contrast included, and the controls work by keyboard."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Frame, Page, expect

from ..factories import Live
from .conftest import Browsing
from .test_widget import ADMIN, ask, open_widget, widget_frame

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


async def assert_no_violations(target: Page | Frame, what: str) -> None:
    results = await Axe().run(target, options=WCAG_AA)  # type: ignore[arg-type]
    violations: list[dict[str, Any]] = results.response["violations"]
    assert not violations, f"{what}:\n{results.generate_report()}"


async def test_demo_host_and_widget_pass_axe(browsing: Browsing, demo_live: Live) -> None:
    await demo_live.agent("Ben Agent", ["customer_support"])
    frame = await open_widget(browsing, ADMIN)
    await expect(frame.locator("#ask-form")).to_be_visible()
    await assert_no_violations(browsing.page, "demo host page")
    await assert_no_violations(widget_frame(browsing), "widget: ask form and history")
    await ask(frame, "エクスポートが終わりません")
    await expect(frame.locator("#chat-status")).to_contain_text("Ben Agent")
    await assert_no_violations(widget_frame(browsing), "widget: chat")


async def test_widget_works_by_keyboard(browsing: Browsing, demo_live: Live) -> None:
    await demo_live.agent("Ben Agent", ["customer_support"])
    page = browsing.page
    await page.goto(f"{browsing.base_url}/demo/host?user={ADMIN}")
    # Tab to the help button, open it with Enter, then Tab to "Ask a question".
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == "help-toggle":
            break
    await page.keyboard.press("Enter")
    ask_button = page.locator("#ask-question")
    for _ in range(30):
        if await page.evaluate("document.activeElement.id") == "ask-question":
            break
        await page.keyboard.press("Tab")
    await expect(ask_button).to_be_focused()
    await page.keyboard.press("Enter")
    frame = page.frame_locator("#supportdesk-frame")
    # The question box is reachable and the form submits from the keyboard.
    body = frame.locator("#ask-body")
    await expect(body).to_be_visible()
    await body.focus()
    await page.keyboard.type("キーボードだけで質問します")
    await page.keyboard.press("Tab")
    await expect(frame.locator("#ask-form button[type=submit]")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(frame.locator("#chat-status")).to_contain_text("Ben Agent")
