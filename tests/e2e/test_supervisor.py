"""The supervisor page in real Chromium: a supervisor signs in through the shared login
form; customers and agents act through the API, and the page follows live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect

from ..factories import Actor, Live, key
from .conftest import Browsing, artifact, staff_sign_in
from .test_accessibility import assert_no_violations

XSS = "<img src=x onerror=alert(1)>"


async def sign_in(b: Browsing, live: Live, name: str, roles: list[str]) -> None:
    await staff_sign_in(b, live, "/supervisor", name, roles)


async def ask(customer: Actor, body: str) -> int:
    response = await customer.post("/api/v1/conversations", {"body": body, "client_key": key()})
    assert response.status_code == 201, response.text
    return int(response.json()["conversation"]["id"])


async def rated_conversation(live: Live, agent: Actor, score: int) -> None:
    """A customer asks, the agent answers and resolves, the customer rates."""
    customer = await live.customer(portal="acme", user="rater")
    cid = await ask(customer, "How do I export my data?")
    answer = await agent.post(
        f"/api/v1/conversations/{cid}/messages", {"body": "Use Export.", "client_key": key()}
    )
    assert answer.status_code == 201, answer.text
    assert (await agent.post(f"/api/v1/conversations/{cid}/resolve")).status_code == 200
    rating = await customer.post(f"/api/v1/conversations/{cid}/rating", {"score": score})
    assert rating.status_code == 201, rating.text


def queue(page: Page, tier: str) -> Any:
    return page.locator(f"#sv-queues [data-tier={tier}]")


def agent_row(page: Page, agent: Actor) -> Any:
    return page.locator(f"#sv-agents tr[data-agent-id='{agent.id}']")


async def test_supervisor_page_shows_live_state_reports_and_audit(
    browsing: Browsing, demo_live: Live, tmp_path: Path
) -> None:
    page = browsing.page
    aiko = await demo_live.agent("Aiko Tanaka", ["customer_support"], max_chats=1)
    kenji = await demo_live.agent("Kenji Mori", ["technical_support"])
    await rated_conversation(demo_live, aiko, 4)
    # Aiko has one open chat and room for one only: the next question waits in the queue.
    busy = await ask(await demo_live.customer(portal="acme", user="busy"), "Login fails")
    waiting_customer = await demo_live.customer(portal="globex", user="waiting")
    await ask(waiting_customer, "Where is the invoice?")

    await sign_in(browsing, demo_live, "Sara Supervisor", ["supervisor"])
    await expect(page.locator("#sv-page")).to_be_visible()
    await expect(page.locator("#sd-connection.is-live")).to_have_count(1)

    # Queues and agents.
    await expect(queue(page, "customer_support")).to_contain_text("1 waiting")
    await expect(queue(page, "customer_support")).to_contain_text("Where is the invoice?")
    await expect(queue(page, "technical_support")).to_contain_text("0 waiting")
    await expect(agent_row(page, aiko)).to_contain_text("Online")
    await expect(agent_row(page, aiko).locator(".sv-load")).to_have_text("1 of 1")
    await expect(agent_row(page, kenji)).to_contain_text("Technical support")

    # The CSAT chart includes the rating: the bar for score 4 holds one rating.
    bar = page.locator("#sv-csat svg g.sd-bar[data-label='4']")
    await expect(bar).to_have_attribute("data-value", "1")
    await expect(bar.locator("title")).to_have_text("Score 4, ratings: 1")
    await expect(page.locator("#sv-csat svg g.sd-bar[data-label='5']")).to_have_attribute(
        "data-value", "0"
    )
    await expect(page.locator("#sv-csat-summary")).to_have_text("Ratings: 1, average 4.00 of 5")
    await expect(page.locator("#sv-csat-table tbody tr")).to_have_count(1)
    await expect(page.locator("#sv-csat-table tbody")).to_contain_text("Aiko Tanaka")
    daily = page.locator("#sv-csat figure[data-chart=csat-daily] svg circle.sd-point title")
    await expect(daily).to_have_count(1)
    await expect(daily).to_contain_text("average 4.00 (ratings: 1)")
    opened = page.locator("figure[data-metric=opened] svg")
    await expect(opened).to_have_attribute("aria-label", "Conversations opened per day")
    await expect(opened.locator("circle.sd-point title").first).to_be_attached()
    await browsing.screenshot("supervisor-overview")
    await page.screenshot(path=str(artifact("supervisor-full-page")), full_page=True)

    # Live: a new question joins the queue, a presence change shows, without a reload.
    await ask(await demo_live.customer(portal="initech", user="late"), "Is there an API?")
    await expect(queue(page, "customer_support")).to_contain_text("2 waiting")
    await expect(queue(page, "customer_support")).to_contain_text("Is there an API?")
    assert (await kenji.put("/api/v1/staff/me/presence", {"presence": "away"})).status_code == 200
    await expect(agent_row(page, kenji)).to_contain_text("Away")
    # Resolving frees Aiko's slot: the oldest waiting question is assigned to her.
    assert (await aiko.post(f"/api/v1/conversations/{busy}/resolve")).status_code == 200
    await expect(queue(page, "customer_support")).to_contain_text("1 waiting")
    await expect(queue(page, "customer_support")).not_to_contain_text("Where is the invoice?")

    # The audit log filters by action.
    rows = page.locator("#sv-audit-table tbody tr")
    await expect(rows.first).to_be_attached()
    await page.locator("#sv-audit-action").fill("conversation.rated")
    await page.locator("#sv-audit-filters button[type=submit]").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-action", "conversation.rated")
    await expect(page.locator("#sv-audit-status")).to_have_text("1 entries shown")
    await page.locator("#sv-audit-action").fill("agent.presence_changed")
    await page.locator("#sv-audit-filters button[type=submit]").click()
    await expect(rows.first).to_have_attribute("data-action", "agent.presence_changed")
    await expect(rows.first).to_contain_text("Kenji Mori")
    others = page.locator("#sv-audit-table tbody tr:not([data-action='agent.presence_changed'])")
    await expect(others).to_have_count(0)
    await browsing.screenshot("supervisor-audit")

    # The CSV link downloads the per-agent table.
    async with page.expect_download() as download_info:
        await page.locator("#sv-csv").click()
    download = await download_info.value
    assert download.suggested_filename.startswith("csat-")
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    content = saved.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert "Aiko Tanaka" in text and '"1","4.0"' in text

    # Japanese: the page and the charts follow the language switch.
    async with page.expect_response("**/api/v1/staff/me/settings"):
        await page.locator("#sd-language").select_option("ja")
    await expect(page.locator("#sv-page h1")).to_have_text("スーパーバイザー")
    await expect(page.locator("figure[data-metric=opened] svg")).to_have_attribute(
        "aria-label", "日別の新規お問い合わせ数"
    )
    await expect(bar.locator("title")).to_have_text("スコア 4: 1 件")
    await browsing.screenshot("supervisor-ja")

    await assert_no_violations(page, "supervisor page in Japanese")
    assert browsing.errors == [] and browsing.dialogs == []


async def test_a_period_without_ratings_empties_the_reports(
    browsing: Browsing, demo_live: Live
) -> None:
    page = browsing.page
    hostile = await demo_live.agent(XSS, ["customer_support"])
    await rated_conversation(demo_live, hostile, 5)
    await sign_in(browsing, demo_live, "Sara Supervisor", ["supervisor"])
    bar = page.locator("#sv-csat svg g.sd-bar[data-label='5']")
    await expect(bar).to_have_attribute("data-value", "1")
    # A hostile agent name stays text in both tables.
    await expect(page.locator("#sv-csat-table tbody th")).to_have_text(XSS)
    await expect(agent_row(page, hostile).locator("th")).to_have_text(XSS)
    assert await page.locator("#app img").count() == 0

    # The period is applied from the keyboard: type the dates, Tab to Apply, Enter.
    await page.locator("#sv-from").fill("2020-01-01")
    await page.locator("#sv-to").fill("2020-01-31")
    await page.locator("#sv-to").focus()
    for _ in range(4):  # a date input's month, day and year take a Tab each
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == "sv-tier":
            break
    await expect(page.locator("#sv-tier")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.locator("#sv-filters button[type=submit]")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(bar).to_have_attribute("data-value", "0")
    await expect(page.locator("#sv-csat-summary")).to_have_text("No ratings in this period.")
    await expect(page.locator("#sv-audit-status")).to_have_text("No entries match.")
    assert "2020-01-01" in (await page.locator("#sv-csv").get_attribute("href") or "")

    # A reversed period is refused on the page, before any request.
    await page.locator("#sv-from").fill("2020-02-01")
    await page.locator("#sv-filters button[type=submit]").click()
    await expect(page.locator("#sv-filters-error")).to_be_visible()
    assert browsing.errors == [] and browsing.dialogs == []


async def test_the_page_has_a_strict_csp(demo_live: Live) -> None:
    response = await demo_live.http.get("/supervisor")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "<script>" not in response.text


async def test_non_supervisors_see_a_refusal(browsing: Browsing, demo_live: Live) -> None:
    page = browsing.page
    await sign_in(browsing, demo_live, "Ben Agent", ["customer_support"])
    refusal = page.locator("#sv-refusal")
    await expect(refusal).to_be_visible()
    await expect(refusal).to_contain_text("Supervisors only")
    await expect(page.locator("#sv-page")).to_be_hidden()
    await expect(page.locator("#sd-header a[href='/supervisor']")).to_be_hidden()
    await browsing.screenshot("supervisor-refused")
