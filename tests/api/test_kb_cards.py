"""Article cards and the editor's article list over HTTP, on the database under test: the
assigned agent shares a published article into the chat and the customer gets the card
live; drafts, missing articles, read-only agents, customers and resolved chats are
refused with stable codes; editors list every article, drafts included."""

from __future__ import annotations

import pytest

from supportdesk.demo import DEMO_KB
from supportdesk.knowledge.actions import import_articles
from supportdesk.knowledge.files import read_folder
from tests.factories import Actor, Live, key


@pytest.fixture
async def kb(live):
    await import_articles(live.svc, read_folder(DEMO_KB))
    return live


async def article_id(actor: Actor, q: str, locale: str) -> dict:
    hits = (await actor.get("/api/v1/kb/search", params={"q": q, "locale": locale})).json()
    assert hits, q
    return hits[0]


async def open_chat(live: Live) -> tuple[Actor, Actor, int]:
    agent = await live.agent("Aiko", ["customer_support"])
    customer = await live.customer(locale="ja")
    opened = await customer.post(
        "/api/v1/conversations", {"body": "ワークフローが動きません", "client_key": key()}
    )
    assert opened.status_code == 201, opened.text
    conv_id = opened.json()["conversation"]["id"]
    conv = (await agent.get(f"/api/v1/conversations/{conv_id}")).json()
    assert conv["assigned_agent"]["id"] == agent.id
    return agent, customer, conv_id


def code(response) -> str:
    return response.json()["error"]["code"]


async def test_the_assigned_agent_shares_an_article_and_the_customer_sees_it_live(kb):
    agent, customer, conv_id = await open_chat(kb)
    hit = await article_id(agent, "ワークフロー", "ja")
    async with customer.socket() as sock:
        shared = await agent.post(
            f"/api/v1/conversations/{conv_id}/article-cards", {"article_id": hit["id"]}
        )
        assert shared.status_code == 201, shared.text
        item = shared.json()
        assert item["kind"] == "card"
        assert item["author"]["id"] == agent.id
        assert item["data"] == {
            "card": "article",
            "article_id": hit["id"],
            "title": hit["title"],
            "locale": "ja",
        }
        live_item = await sock.wait_item(conv_id, lambda i: i["seq"] == item["seq"])
        assert live_item["data"]["card"] == "article"
        assert live_item["data"]["article_id"] == hit["id"]
    items = (await customer.get(f"/api/v1/conversations/{conv_id}/items")).json()
    assert [i["data"]["title"] for i in items if i["kind"] == "card"] == [hit["title"]]


async def test_drafts_missing_articles_and_bad_input_are_refused(kb):
    agent, _customer, conv_id = await open_chat(kb)
    editor = await kb.agent("Sara", ["supervisor"], online=False)
    draft = await editor.post(
        "/api/v1/kb/articles",
        {
            "slug": "secret-draft",
            "locale": "ja",
            "title": "未公開の記事",
            "body": "まだ秘密",
            "category": "test",
            "status": "draft",
        },
    )
    assert draft.status_code == 201, draft.text
    path = f"/api/v1/conversations/{conv_id}/article-cards"
    for body in ({"article_id": draft.json()["id"]}, {"article_id": 999_999}):
        refused = await agent.post(path, body)
        assert refused.status_code == 404 and code(refused) == "not_found", refused.text
    # Even an editor cannot put a draft in front of a customer.
    refused = await editor.post(path, {"article_id": draft.json()["id"]})
    assert refused.status_code == 404, refused.text
    for body in ({"article_id": 0}, {"article_id": "x"}, {}):
        bad = await agent.post(path, body)
        assert bad.status_code == 422, bad.text
    missing = await agent.post(
        "/api/v1/conversations/999999/article-cards", {"article_id": draft.json()["id"]}
    )
    assert missing.status_code == 404
    items = (await agent.get(f"/api/v1/conversations/{conv_id}/items")).json()
    assert not [i for i in items if i["kind"] == "card"]


async def test_only_who_may_write_shares_and_not_after_resolution(kb):
    agent, customer, conv_id = await open_chat(kb)
    colleague = await kb.agent("Ken", ["customer_support"], online=False)
    supervisor = await kb.agent("Sara", ["supervisor"], online=False)
    hit = await article_id(agent, "permission", "en")
    path = f"/api/v1/conversations/{conv_id}/article-cards"

    read_only = await colleague.post(path, {"article_id": hit["id"]})
    assert read_only.status_code == 403 and code(read_only) == "conversation_read_only"
    as_customer = await customer.post(path, {"article_id": hit["id"]})
    assert as_customer.status_code == 403, as_customer.text

    by_supervisor = await supervisor.post(path, {"article_id": hit["id"]})
    assert by_supervisor.status_code == 201, by_supervisor.text
    assert by_supervisor.json()["data"]["locale"] == "en"

    assert (await agent.post(f"/api/v1/conversations/{conv_id}/resolve")).status_code == 200
    late = await agent.post(path, {"article_id": hit["id"]})
    assert late.status_code == 409 and code(late) == "conversation_resolved"


async def test_editors_list_every_article_with_drafts(kb):
    editor = await kb.agent("Sara", ["supervisor"], online=False)
    agent = await kb.agent("Aiko", ["customer_support"], online=False)
    created = await editor.post(
        "/api/v1/kb/articles",
        {
            "slug": "list-draft",
            "locale": "en",
            "title": "A draft for the list",
            "body": "Soon",
            "category": "test",
            "status": "draft",
        },
    )
    assert created.status_code == 201, created.text
    listed = await editor.get("/api/v1/kb/articles", params={"limit": 500})
    assert listed.status_code == 200, listed.text
    rows = listed.json()
    assert rows[0]["slug"] == "list-draft"  # newest change first
    assert {"draft", "published"} <= {row["status"] for row in rows}
    drafts = (await editor.get("/api/v1/kb/articles", params={"status": "draft"})).json()
    assert "list-draft" in {row["slug"] for row in drafts}
    assert {row["status"] for row in drafts} == {"draft"}
    japanese = (await editor.get("/api/v1/kb/articles", params={"locale": "ja"})).json()
    assert japanese and {row["locale"] for row in japanese} == {"ja"}
    refused = await agent.get("/api/v1/kb/articles")
    assert refused.status_code == 403 and code(refused) == "kb_edit_forbidden"
    bad = await editor.get("/api/v1/kb/articles", params={"status": "secret"})
    assert bad.status_code == 422
