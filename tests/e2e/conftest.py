"""Browser tests: Debian's Chromium driven by Playwright (async API) against a live
demo-mode server. ``playwright install`` is never run; install Chromium with
``bash scripts/install-system-deps``.

Screenshots go to ``test-artifacts/e2e/``; a failing test leaves ``<test>-failed.png``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Dialog, Page, async_playwright, expect

from supportdesk.staff.actions import do_create_agent

from ..factories import PASSWORD, Live, start_live

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"


@pytest.fixture
async def demo_live(database_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    """A live server in demo mode (``/demo/host`` exists) with the test secret."""
    async with start_live(database_url, tmp_path, demo=True) as server:
        yield server


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is missing: run `bash scripts/install-system-deps`")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        await browser.close()


@dataclass
class Browsing:
    """One page, plus what the test wants to assert about it afterwards."""

    page: Page
    base_url: str
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def screenshot(self, name: str) -> Path:
        path = artifact(name)
        await self.page.screenshot(path=str(path))
        return path


async def _open(
    browser: Browser, live: Live, request: pytest.FixtureRequest, viewport: dict[str, int]
) -> AsyncIterator[Browsing]:
    context: BrowserContext = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = await context.new_page()
    browsing = Browsing(page, live.base_url)

    async def on_dialog(dialog: Dialog) -> None:
        browsing.dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: browsing.errors.append(str(exc)))
    try:
        yield browsing
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            try:
                await page.screenshot(path=str(artifact(f"{request.node.name}-failed")))
            except Exception as exc:  # the page may be gone; keep the real failure
                print(f"could not save the failure screenshot: {exc}")
        await context.close()


@pytest.fixture
async def browsing(
    browser: Browser, demo_live: Live, request: pytest.FixtureRequest
) -> AsyncIterator[Browsing]:
    async for value in _open(browser, demo_live, request, {"width": 1280, "height": 800}):
        yield value


@pytest.fixture
async def narrow(
    browser: Browser, demo_live: Live, request: pytest.FixtureRequest
) -> AsyncIterator[Browsing]:
    async for value in _open(browser, demo_live, request, {"width": 360, "height": 740}):
        yield value


@pytest.fixture
async def new_browsing(
    browser: Browser, demo_live: Live, request: pytest.FixtureRequest
) -> AsyncIterator[Callable[[], Awaitable[Browsing]]]:
    """Opens more browser contexts beside ``browsing`` (another agent, a supervisor),
    each closed, with its failure screenshot, at the end of the test."""
    opened: list[AsyncIterator[Browsing]] = []

    async def open_one() -> Browsing:
        context = _open(browser, demo_live, request, {"width": 1280, "height": 800})
        opened.append(context)
        return await anext(context)

    yield open_one
    for context in reversed(opened):
        await anext(context, None)


async def staff_sign_in(
    b: Browsing, live: Live, path: str, name: str, roles: list[str], locale: str = "en"
) -> int:
    """Create a staff member and sign in on ``path`` through the shared sign-in form."""
    email = f"{name.lower().replace(' ', '.')}@staff.test"
    agent = await do_create_agent(
        live.svc,
        email=email,
        name=name,
        password=PASSWORD,
        roles=roles,
        languages=["en", "ja"],
        locale=locale,
    )
    page = b.page
    await page.goto(f"{b.base_url}{path}")
    await expect(page.locator("#sd-login")).to_be_visible()
    await page.locator("#sd-login-email").fill(email)
    await page.locator("#sd-login-password").fill(PASSWORD)
    await page.locator("#sd-login-form button[type=submit]").click()
    await expect(page.locator("#app")).to_be_visible()
    return agent.id
