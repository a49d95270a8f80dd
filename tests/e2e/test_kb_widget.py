"""Help articles in the customer widget, in real Chromium: suggestions while typing,
the article view (a view counted, a vote), "this solved my problem" (a deflection and no
conversation), asking anyway (the suggestions kept for the agent), the article card an
agent sends, axe and the keyboard.

The demo articles are imported from ``supportdesk.demo.DEMO_KB`` (the demo data is not
loaded in tests). The demo customer 0 is a Japanese commercial admin.
"""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import FrameLocator, expect
from sqlalchemy import func, select

from supportdesk.conversations.models import Conversation, ItemKind
from supportdesk.conversations.timeline import Draft, append_items
from supportdesk.demo import DEMO_KB
from supportdesk.knowledge.actions import import_articles
from supportdesk.knowledge.files import read_folder

from ..factories import Actor, Live
from .conftest import Browsing
from .test_accessibility import assert_no_violations
from .test_widget import ADMIN, conversation_id, open_widget, widget_frame

PERMISSIONS_TITLE = "ユーザー権限を変更する"


async def import_demo_articles(live: Live) -> None:
    report = await import_articles(live.svc, read_folder(DEMO_KB))
    assert report.created >= 60, report


async def article(agent: Actor, article_id: int) -> dict[str, Any]:
    response = await agent.get(f"/api/v1/kb/articles/{article_id}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def until_count(agent: Actor, article_id: int, field: str, expected: int) -> None:
    """Wait (up to 10 s) for a counter the page updates in the background."""
    value = None
    for _ in range(100):
        value = (await article(agent, article_id))[field]
        if value == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{field} of article {article_id} is {value}, expected {expected}")


async def type_question(frame: FrameLocator, text: str) -> None:
    """Type like a person (click in the box, then keys), then wait for the suggestions
    for the whole question."""
    box = frame.locator("#ask-body")
    await box.click()
    await expect(box).to_be_focused()
    await box.page.keyboard.type(text)
    await suggestions_for(frame, collapse(await box.input_value()))


def collapse(text: str) -> str:
    return " ".join(text.split())


async def suggestions_for(frame: FrameLocator, question: str) -> None:
    # The server's first search loads the Japanese dictionary: allow for it.
    await expect(frame.locator("#kb-list")).to_have_attribute(
        "data-query", question, timeout=30_000
    )


async def shown_ids(frame: FrameLocator) -> list[int]:
    buttons = frame.locator("#kb-list .sd-kb-open")
    return [int(v) for v in await buttons.evaluate_all("bs => bs.map(b => b.dataset.articleId)")]


async def test_suggestions_while_typing_a_view_a_vote_and_solved_without_a_conversation(
    browsing: Browsing, demo_live: Live
) -> None:
    await import_demo_articles(demo_live)
    editor = await demo_live.agent("Eri Editor", ["customer_support", "admin"])
    frame = await open_widget(browsing, ADMIN)
    await expect(frame.locator("#kb-suggestions")).to_be_hidden()

    # Two Japanese characters, typed: the articles appear live, Japanese first, each
    # with its snippet and the word highlighted.
    await type_question(frame, "権限")
    items = frame.locator("#kb-list .sd-kb-item")
    await expect(frame.locator("#kb-suggestions")).to_be_visible()
    await expect(items.first).to_have_attribute("lang", "ja")
    await expect(frame.get_by_role("button", name=PERMISSIONS_TITLE)).to_be_visible()
    await expect(items.first.locator(".sd-kb-snippet mark").first).to_have_text("権限")
    await expect(frame.locator("#kb-status")).to_contain_text("ヘルプ記事が")
    await browsing.screenshot("kb-widget-suggestions")

    # Typing on changes the suggestions (debounced, no button pressed).
    permission_ids = await shown_ids(frame)
    await frame.locator("#ask-body").fill("")
    await type_question(frame, "ワークフロー")
    await expect(
        frame.locator("#kb-list .sd-kb-snippet mark", has_text="ワークフロー").first
    ).to_be_visible()
    assert await shown_ids(frame) != permission_ids
    await frame.locator("#ask-body").fill("")
    await type_question(frame, "権限")
    await expect(frame.get_by_role("button", name=PERMISSIONS_TITLE)).to_be_visible()

    # Opening one shows it in the widget and counts one view.
    opener = frame.get_by_role("button", name=PERMISSIONS_TITLE)
    article_id = int(await opener.get_attribute("data-article-id") or 0)
    assert (await article(editor, article_id))["view_count"] == 0
    await opener.click()
    await expect(frame.locator("#view-article")).to_be_visible()
    await expect(frame.locator("#kb-title")).to_have_text(PERMISSIONS_TITLE)
    await expect(frame.locator("#kb-title")).to_be_focused()
    await expect(frame.locator("#kb-body strong").first).to_have_text("権限")  # Markdown
    await expect(frame.locator("#kb-body ol li")).to_have_count(3)
    await until_count(editor, article_id, "view_count", 1)
    await assert_no_violations(widget_frame(browsing), "widget: article")

    # "Was this helpful?": one vote, then thanks instead of the buttons.
    await frame.get_by_role("button", name="はい", exact=True).click()
    await expect(frame.locator("#kb-vote-status")).to_have_text("ご意見ありがとうございます。")
    await expect(frame.locator("#kb-vote")).to_be_hidden()
    assert (await article(editor, article_id))["helpful_count"] == 1
    await browsing.screenshot("kb-widget-article")

    # "This solved my problem": one deflection, a friendly end, and no conversation.
    await frame.get_by_role("button", name="これで解決しました").click()
    await expect(frame.locator("#solved-heading")).to_have_text("解決してよかったです")
    await expect(frame.locator("#solved-heading")).to_be_focused()
    await until_count(editor, article_id, "deflection_count", 1)
    customer = await demo_live.customer("acme", "acme-admin", "admin", "professional", "ja")
    assert (await customer.get("/api/v1/conversations")).json() == []
    async with demo_live.svc.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 0
    await assert_no_violations(widget_frame(browsing), "widget: solved")
    await browsing.screenshot("kb-widget-solved")

    # Back at the start, the form is empty again.
    await frame.get_by_role("button", name="最初の画面に戻る").click()
    await expect(frame.locator("#ask-body")).to_have_value("")
    await expect(frame.locator("#ask-body")).to_be_focused()
    await expect(frame.locator("#kb-suggestions")).to_be_hidden()
    assert not browsing.errors, browsing.errors


async def test_ask_anyway_keeps_the_suggestions_for_the_agent_by_keyboard(
    browsing: Browsing, demo_live: Live
) -> None:
    await import_demo_articles(demo_live)
    agent = await demo_live.agent("Ben Agent", ["customer_support"])
    frame = await open_widget(browsing, ADMIN)
    page = browsing.page

    await type_question(frame, "権限を変更したい")
    await expect(frame.locator("#kb-list .sd-kb-item").first).to_be_visible()
    await assert_no_violations(widget_frame(browsing), "widget: ask form with suggestions")
    ids = await shown_ids(frame)
    assert ids

    # Tab from the question reaches the first suggestion; Enter opens it; the back
    # button returns to it.
    await page.keyboard.press("Tab")
    first = frame.locator("#kb-list .sd-kb-open").first
    await expect(first).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(frame.locator("#kb-title")).to_be_focused()
    await frame.get_by_role("button", name="質問に戻る").press("Enter")
    await expect(first).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(frame.locator("#kb-title")).to_be_focused()

    # "Ask anyway": the question is sent, with the suggestions the customer saw.
    await frame.get_by_role("button", name="それでも質問する").press("Enter")
    await expect(frame.locator("#view-chat")).to_be_visible()
    await expect(frame.locator(".sd-mine .sd-body")).to_have_text("権限を変更したい")
    cid = await conversation_id(agent)
    kept = (await agent.get(f"/api/v1/conversations/{cid}/suggestions")).json()
    assert [a["id"] for a in kept] == ids

    # Back home, the suggestions of the sent question are gone.
    await frame.locator("#sd-back").click()
    await expect(frame.locator("#view-home")).to_be_visible()
    await expect(frame.locator("#kb-suggestions")).to_be_hidden()
    assert not browsing.errors, browsing.errors


async def test_an_article_card_in_the_chat_opens_the_article(
    browsing: Browsing, demo_live: Live
) -> None:
    await import_demo_articles(demo_live)
    agent = await demo_live.agent("Ben Agent", ["customer_support"])
    frame = await open_widget(browsing, ADMIN)
    await frame.locator("#ask-body").fill("エクスポートについて")
    await frame.locator("#ask-form button[type=submit]").click()
    await expect(frame.locator("#chat-status")).to_contain_text("Ben Agent")
    await widget_frame(browsing).wait_for_function("() => window.__supportdesk.connected()")
    cid = await conversation_id(agent)

    hits = (await agent.get("/api/v1/kb/search", params={"q": "権限", "locale": "ja"})).json()
    target = next(hit for hit in hits if hit["title"] == PERMISSIONS_TITLE)
    await post_article_card(demo_live, cid, target)
    await widget_frame(browsing).evaluate("() => window.__supportdesk.dropSocket()")

    card = frame.locator(".sd-kb-card")
    await expect(card.locator(".sd-kb-card-label")).to_have_text("ヘルプ記事")
    await card.get_by_role("button", name=PERMISSIONS_TITLE).click()
    await expect(frame.locator("#kb-title")).to_have_text(PERMISSIONS_TITLE)
    # Read from the chat: votes, but no "solved" (the question was already asked).
    await expect(frame.locator("#kb-feedback")).to_be_visible()
    await expect(frame.locator("#kb-resolve")).to_be_hidden()
    await until_count(agent, target["id"], "view_count", 1)
    await browsing.screenshot("kb-widget-card-article")
    await frame.get_by_role("button", name="チャットに戻る").click()
    await expect(frame.locator("#view-chat")).to_be_visible()
    await expect(card.get_by_role("button", name=PERMISSIONS_TITLE)).to_be_focused()
    await assert_no_violations(widget_frame(browsing), "widget: chat with an article card")
    assert not browsing.errors, browsing.errors


async def post_article_card(live: Live, cid: int, hit: dict[str, Any]) -> None:
    """An article card in the timeline, as the console's knowledge panel writes it
    (straight into the timeline: the widget gets it when its socket resumes)."""
    async with live.svc.db.write() as session:
        conv = await session.get(Conversation, cid, with_for_update=True)
        assert conv is not None
        data = {"card": "article", "article_id": hit["id"], "title": hit["title"], "locale": "ja"}
        await append_items(session, conv, [Draft(ItemKind.CARD, None, data=data)])
