"""The knowledge base in the console and the article editor, in real Chromium: an agent
searches articles in the console's side panel and shares one into the chat, which the
customer's widget receives live; a supervisor edits an article with a live preview in
which Markdown is rendered and a ``<script>`` stays inert, and deletes one (after a
confirmation) and restores it."""

from __future__ import annotations

from playwright.async_api import Page, expect

from supportdesk.demo import DEMO_KB
from supportdesk.knowledge.actions import import_articles
from supportdesk.knowledge.files import read_folder

from ..factories import Actor, Live, key
from .conftest import Browsing, staff_sign_in
from .test_accessibility import assert_no_violations
from .test_console import set_presence
from .test_widget import ADMIN, ask, connected, open_widget


async def load_articles(live: Live) -> None:
    report = await import_articles(live.svc, read_folder(DEMO_KB))
    assert report.created >= 30


async def test_agent_finds_an_article_and_the_customer_gets_the_card_live(
    browsing: Browsing, new_browsing, demo_live: Live
) -> None:
    await load_articles(demo_live)
    # The agent signs in first, so the customer's question is assigned to them.
    console = await new_browsing()
    await staff_sign_in(console, demo_live, "/console", "Aiko Agent", ["customer_support"])
    page: Page = console.page
    await expect(page.locator("#sd-connection.is-live")).to_have_count(1)
    await set_presence(page, "online")

    frame = await open_widget(browsing, ADMIN)
    await ask(frame, "承認の流れを変えたいです")
    await expect(frame.locator("#chat-status")).to_contain_text("Aiko Agent")
    await connected(browsing)

    await page.locator("#cs-mine .cs-conv").first.click()
    await expect(page.locator("#cs-timeline .cs-item")).not_to_have_count(0)
    await page.locator("#cs-kb-q").fill("ワークフロー")
    await page.locator("#cs-kb-search button[type=submit]").click()
    hits = page.locator("#cs-kb-results .cs-kb-hit")
    await expect(hits.first).to_be_visible()
    # The snippet's match is highlighted (server-escaped text with <mark>).
    await expect(hits.first.locator(".cs-kb-snippet mark").first).to_contain_text("ワークフロー")
    title = (await hits.first.locator(".cs-kb-open").inner_text()).strip()
    await assert_no_violations(page, "console with the knowledge-base panel")
    await console.screenshot("kb-console-search")

    await hits.first.locator(".cs-kb-insert").click()
    card = page.locator("#cs-timeline .cs-item--article")
    await expect(card).to_have_count(1)
    await expect(card).to_contain_text(title)
    # The card opens the article in the side panel.
    await card.locator(".cs-kb-open").click()
    await expect(page.locator("#cs-kb-reader-title")).to_have_text(title)
    await console.screenshot("kb-console-card")

    # The customer's widget gets the card live (drawn by widget-kb.js).
    await expect(frame.locator(".sd-kb-card .sd-kb-open")).to_have_text(title)
    await browsing.screenshot("kb-widget-card")
    assert not console.errors and not browsing.errors


async def test_supervisor_edits_an_article_with_a_safe_live_preview(
    browsing: Browsing, demo_live: Live
) -> None:
    await load_articles(demo_live)
    await staff_sign_in(browsing, demo_live, "/supervisor/kb", "Sara Lind", ["supervisor"])
    page = browsing.page
    await expect(page.locator("#kb-manage")).to_be_visible()
    await expect(page.get_by_role("link", name="Help articles")).to_be_visible()
    rows = page.locator("#kb-rows .kb-row")
    await expect(rows).not_to_have_count(0)
    await page.locator("#kb-q").fill("workflow")
    await page.locator("#kb-filter-locale").select_option("en")
    first = rows.first
    await expect(first).to_be_visible()
    await first.click()
    await expect(page.locator("#kb-editor-heading")).to_be_focused()
    await expect(page.locator("#kb-slug")).to_be_disabled()
    await expect(page.locator("#kb-versions li")).not_to_have_count(0)

    body = page.locator("#kb-body")
    await body.fill(
        "## Preview heading\n\nSome **bold words** and a [bad link](javascript:alert(1)).\n\n"
        "<script>window.__pwned = 1</script>\n"
    )
    preview = page.locator("#kb-preview")
    await expect(preview.locator("h2")).to_have_text("Preview heading")
    await expect(preview.locator("strong")).to_have_text("bold words")
    # The script is shown as text, never run; no link points at javascript:.
    await expect(preview).to_contain_text("<script>window.__pwned = 1</script>")
    await expect(preview.locator("script")).to_have_count(0)
    await expect(preview).to_contain_text("bad link")
    await expect(preview.locator("a[href*='javascript']")).to_have_count(0)
    assert await page.evaluate("window.__pwned") is None
    await assert_no_violations(page, "article editor with preview")
    await browsing.screenshot("kb-editor-preview")

    await page.locator("#kb-save").click()
    await expect(page.locator("#kb-notice")).to_contain_text("version 2")
    await expect(page.locator("#kb-versions li").first).to_contain_text("Version 2")
    await expect(page.locator("#kb-versions li").first).to_contain_text("text")
    assert not browsing.errors


async def search_ids(customer: Actor, q: str) -> list[int]:
    """The ids a customer's search for ``q`` (in English) finds."""
    found = await customer.get("/api/v1/kb/search", params={"q": q, "locale": "en"})
    assert found.status_code == 200, found.text
    return [hit["id"] for hit in found.json()]


async def test_supervisor_deletes_an_article_after_confirming_and_restores_it(
    browsing: Browsing, demo_live: Live
) -> None:
    await load_articles(demo_live)
    customer = await demo_live.customer(locale="en")
    hits = (
        await customer.get("/api/v1/kb/search", params={"q": "workflow", "locale": "en"})
    ).json()
    article_id, title, slug = hits[0]["id"], hits[0]["title"], hits[0]["slug"]
    assert article_id in await search_ids(customer, "workflow")

    await staff_sign_in(browsing, demo_live, "/supervisor/kb", "Sara Lind", ["supervisor"])
    page = browsing.page
    rows = page.locator("#kb-rows .kb-row")
    await expect(rows).not_to_have_count(0)
    await page.locator("#kb-filter-locale").select_option("en")
    await page.locator("#kb-q").fill(slug)
    row = page.locator(f"#kb-rows .kb-row[data-article='{article_id}']")
    await expect(row).to_have_count(1)
    await row.click()
    delete = page.locator("#kb-delete")
    await expect(delete).to_be_visible()
    await expect(page.locator("#kb-deleted-note")).to_be_hidden()

    # The confirmation: the safe button has the focus and Escape keeps the article.
    dialog = page.locator("#kb-confirm")
    await delete.click()
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text(title)
    await expect(page.locator("#kb-confirm-cancel")).to_be_focused()
    await assert_no_violations(page, "article editor: delete confirmation")
    await browsing.screenshot("kb-editor-delete-confirm")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(row).to_have_count(1)

    # Confirmed with the keyboard: gone from the list and from the customers' search.
    await delete.click()
    await expect(dialog).to_be_visible()
    await page.keyboard.press("Shift+Tab")
    await expect(page.locator("#kb-confirm-delete")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#kb-notice")).to_contain_text(f"Deleted “{title}”")
    await expect(page.locator("#kb-editor")).to_be_hidden()
    await expect(row).to_have_count(0)
    assert article_id not in await search_ids(customer, "workflow")
    gone = await customer.get(f"/api/v1/kb/articles/{article_id}")
    assert gone.status_code == 404, gone.text

    # Listed under "Deleted"; opening it says how to restore it, and saving restores it.
    await page.locator("#kb-filter-status").select_option("archived")
    await expect(row).to_have_count(1)
    await expect(row.locator(".kb-deleted")).to_have_text("Deleted")
    await row.click()
    await expect(page.locator("#kb-deleted-note")).to_be_visible()
    await expect(page.locator("#kb-delete")).to_be_hidden()
    status = page.locator("#kb-status")
    await expect(status).to_have_value("draft")
    await expect(status.locator("option")).to_have_count(2)
    await expect(page.locator("#kb-versions li").first).to_contain_text("deleted")
    await assert_no_violations(page, "article editor: a deleted article")
    await browsing.screenshot("kb-editor-deleted-article")

    await status.select_option("published")
    await page.locator("#kb-save").click()
    await expect(page.locator("#kb-notice")).to_contain_text(f"Restored “{title}” as Published")
    await expect(page.locator("#kb-deleted-note")).to_be_hidden()
    await expect(page.locator("#kb-delete")).to_be_visible()
    await expect(page.locator("#kb-versions li").first).to_contain_text("restored as Published")
    await expect(row).to_have_count(0)  # no longer under "Deleted"
    await page.locator("#kb-filter-status").select_option("")
    await expect(row.locator(".kb-row-meta")).to_contain_text("Published")
    assert article_id in await search_ids(customer, "workflow")
    assert not browsing.errors and not browsing.dialogs


async def test_agents_who_are_not_editors_see_a_refusal(
    browsing: Browsing, demo_live: Live
) -> None:
    await staff_sign_in(browsing, demo_live, "/supervisor/kb", "Ken Agent", ["customer_support"])
    await expect(browsing.page.locator("#kb-refused")).to_be_visible()
    await expect(browsing.page.locator("#kb-manage")).to_be_hidden()


async def test_the_console_shows_what_the_customer_saw_before_asking(
    browsing: Browsing, demo_live: Live
) -> None:
    await load_articles(demo_live)
    await staff_sign_in(browsing, demo_live, "/console", "Aiko Agent", ["customer_support"], "ja")
    page = browsing.page
    await expect(page.locator("#sd-connection.is-live")).to_have_count(1)
    await set_presence(page, "online")
    customer = await demo_live.customer(locale="ja")
    hits = (await customer.get("/api/v1/kb/search", params={"q": "権限", "locale": "ja"})).json()
    shown = [hit["id"] for hit in hits[:2]]
    opened = await customer.post(
        "/api/v1/conversations",
        {"body": "権限を変えられません", "client_key": key(), "suggested_article_ids": shown},
    )
    assert opened.status_code == 201, opened.text
    await page.locator("#cs-mine .cs-conv").first.click()
    suggested = page.locator("#cs-kb-suggested .cs-kb-hit")
    await expect(suggested).to_have_count(2)
    await expect(suggested.first.locator(".cs-kb-open")).to_have_text(hits[0]["title"])
    await expect(page.locator("#cs-kb-heading")).to_have_text("ヘルプ記事")
    await assert_no_violations(page, "console with the customer's suggestions")
    await browsing.screenshot("kb-console-suggestions")
