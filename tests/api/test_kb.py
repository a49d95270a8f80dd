"""Knowledge base over HTTP: search of the demo articles in both languages, drafts kept from
customers, safe rendering, versions, votes, deflections, views, import idempotence and the
suggestions kept on a conversation."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from supportdesk.demo import DEMO_KB
from supportdesk.knowledge.actions import all_articles, ensure_index, import_articles
from supportdesk.knowledge.files import read_folder, write_folder
from supportdesk.knowledge.search import index_for

SEARCH = "/api/v1/kb/search"


def _elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every element the browser would build from ``html``, with its attributes."""
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


@pytest.fixture
async def kb(live):
    report = await import_articles(live.svc, read_folder(DEMO_KB))
    assert report.created >= 60
    return live


async def _slugs(actor, q: str, **params) -> list[str]:
    response = await actor.get(SEARCH, params={"q": q, **params})
    assert response.status_code == 200, response.text
    return [hit["slug"] for hit in response.json()]


@pytest.mark.parametrize(
    ("q", "locale", "expected"),
    [
        ("設定", "ja", "admin-settings-overview"),
        ("権限", "ja", "user-permissions"),
        ("ワークフロー", "ja", "create-a-workflow"),
        ("permission", "en", "user-permissions"),
        ("workflows", "en", "create-a-workflow"),
        ("設定する", "ja", "admin-settings-overview"),
        ("表", "ja", "tables-create"),
        ("permsission", "en", "user-permissions"),
    ],
)
async def test_the_must_show_queries_find_the_right_articles(kb, q, locale, expected):
    customer = await kb.customer(locale=locale)
    response = await customer.get(SEARCH, params={"q": q, "locale": locale})
    hits = response.json()
    top = [hit["slug"] for hit in hits[:5]]
    assert expected in top, (q, top)
    first = next(hit for hit in hits if hit["slug"] == expected)
    assert first["locale"] == locale
    assert "<mark>" in first["snippet_html"]


async def test_snippets_escape_everything_but_the_marks(kb):
    admin = await kb.agent("Sara", ["supervisor", "admin"], online=False)
    created = await admin.post(
        "/api/v1/kb/articles",
        {
            "slug": "escape-test",
            "locale": "en",
            "title": "Escaping",
            "body": "Type <b>zebrafish</b> & more",
            "category": "test",
            "status": "published",
        },
    )
    assert created.status_code == 201, created.text
    hit = (await admin.get(SEARCH, params={"q": "zebrafish", "locale": "en"})).json()[0]
    assert hit["snippet_html"] == "Type &lt;b&gt;<mark>zebrafish</mark>&lt;/b&gt; &amp; more"


async def test_the_other_language_is_the_fallback(kb):
    customer = await kb.customer(locale="en")
    hits = (await customer.get(SEARCH, params={"q": "権限"})).json()
    assert hits and hits[0]["locale"] == "ja"
    # The caller's language first; a translation already shown is not repeated.
    hits = (await customer.get(SEARCH, params={"q": "workflow approver", "limit": 20})).json()
    assert hits[0]["locale"] == "en"
    slugs = [hit["slug"] for hit in hits]
    assert len(slugs) == len(set(slugs))


async def test_drafts_never_reach_customers(kb):
    customer = await kb.customer(locale="ja")
    assert "upcoming-ai-assistant" not in await _slugs(customer, "AI アシスタント", locale="ja")
    assert "upcoming-ai-assistant" not in await _slugs(
        customer, "AI アシスタント", locale="ja", include_drafts="true"
    )
    draft = next(a for a in await all_articles(kb.svc) if a.slug == "upcoming-ai-assistant")
    assert (await customer.get(f"/api/v1/kb/articles/{draft.id}")).status_code == 404
    assert (await customer.post(f"/api/v1/kb/articles/{draft.id}/view")).status_code == 404
    tier1 = await kb.agent("Aiko", ["customer_support"], online=False)
    assert "upcoming-ai-assistant" not in await _slugs(
        tier1, "アシスタント", locale="ja", include_drafts="true"
    )
    assert (await tier1.get(f"/api/v1/kb/articles/{draft.id}")).status_code == 404
    editor = await kb.agent("Sara", ["supervisor"], online=False)
    assert "upcoming-ai-assistant" in await _slugs(
        editor, "アシスタント", locale="ja", include_drafts="true"
    )
    assert (await editor.get(f"/api/v1/kb/articles/{draft.id}")).status_code == 200


async def test_markdown_with_script_or_javascript_links_renders_inert(kb):
    admin = await kb.agent("Sara", ["admin"], online=False)
    body = (
        "Hello <script>alert(1)</script>\n\n"
        '[click](javascript:alert(1)) <a href="javascript:alert(2)">raw</a> '
        "<img src=x onerror=alert(3)> [ok](https://example.com)"
    )
    created = await admin.post(
        "/api/v1/kb/articles",
        {"slug": "xss", "locale": "en", "title": "XSS", "body": body, "category": "test"},
    )
    assert created.status_code == 201, created.text
    for html in (
        created.json()["html"],
        (await admin.post("/api/v1/kb/preview", {"body": body})).json()["html"],
    ):
        tags = _elements(html)
        assert "script" not in {tag for tag, _ in tags}
        for _, attrs in tags:
            assert not any(name.startswith("on") for name, _ in attrs)
            assert not any((value or "").lower().startswith("javascript") for _, value in attrs)
        assert (
            "a",
            [("href", "https://example.com"), ("rel", "noopener noreferrer nofollow")],
        ) in tags
        # The script is shown as text, not run.
        assert "&lt;script&gt;" in html


async def test_only_editors_edit_and_versions_record_who_changed_what(kb):
    tier1 = await kb.agent("Aiko", ["customer_support"], online=False)
    article = {
        "slug": "new-one",
        "locale": "ja",
        "title": "新しい記事",
        "body": "本文",
        "category": "misc",
    }
    refused = await tier1.post("/api/v1/kb/articles", article)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "kb_edit_forbidden"
    admin = await kb.agent("Sara", ["admin"], online=False)
    created = (await admin.post("/api/v1/kb/articles", article)).json()
    again = await admin.post("/api/v1/kb/articles", article)
    assert again.status_code == 409 and again.json()["error"]["code"] == "kb_slug_taken"
    url = f"/api/v1/kb/articles/{created['id']}"
    updated = await admin.put(
        url, {**article, "title": "新しい記事（改訂）", "status": "published"}
    )
    assert updated.status_code == 200 and updated.json()["version"] == 2
    assert (
        await admin.put(url, {**article, "title": "新しい記事（改訂）", "status": "published"})
    ).json()["version"] == 2
    versions = (await admin.get(f"{url}/versions")).json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["changed"] == ["title", "status"]
    assert versions[0]["changed_by"] == admin.id and versions[0]["source"] == "editor"
    assert versions[1]["title"] == "新しい記事"
    assert (await tier1.get(f"{url}/versions")).status_code == 403
    bad = await admin.put(url, {**article, "slug": "Not A Slug"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "kb_slug_invalid"


async def test_a_deleted_article_leaves_search_and_a_save_restores_it(kb, tmp_path: Path):
    article = next(
        a for a in await all_articles(kb.svc) if a.slug == "user-permissions" and a.locale == "en"
    )
    url = f"/api/v1/kb/articles/{article.id}"
    customer = await kb.customer(locale="en")
    tier1 = await kb.agent("Aiko", ["customer_support"], online=False)
    admin = await kb.agent("Sara", ["admin"], online=False)
    assert "user-permissions" in await _slugs(customer, "permission", locale="en")
    refused = await tier1.delete(url)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "kb_edit_forbidden"
    assert (await admin.delete(url)).status_code == 204
    assert (await admin.delete(url)).status_code == 204  # twice changes nothing
    assert "user-permissions" not in await _slugs(customer, "permission", locale="en")
    assert "user-permissions" not in await _slugs(
        admin, "permission", locale="en", include_drafts="true"
    )
    assert (await customer.get(url)).status_code == 404
    listed = (await admin.get("/api/v1/kb/articles", params={"locale": "en"})).json()
    assert article.id not in {a["id"] for a in listed}
    archived = (await admin.get("/api/v1/kb/articles", params={"status": "archived"})).json()
    assert [a["id"] for a in archived] == [article.id]
    write_folder(tmp_path, await all_articles(kb.svc))
    assert not (tmp_path / "user-permissions.en.md").exists()
    versions = (await admin.get(f"{url}/versions")).json()
    assert (versions[0]["status"], versions[0]["changed"]) == ("archived", ["status"])
    assert len(versions) == 2
    shown = (await admin.get(url)).json()
    restored = await admin.put(
        url,
        {key: shown[key] for key in ("slug", "locale", "title", "body", "category", "tags")}
        | {"status": "published"},
    )
    assert restored.status_code == 200, restored.text
    assert "user-permissions" in await _slugs(customer, "permission", locale="en")
    assert (await admin.delete("/api/v1/kb/articles/999999")).status_code == 404


async def test_an_empty_index_is_rebuilt_at_startup(kb):
    customer = await kb.customer(locale="ja")
    async with kb.svc.db.write() as session:
        await index_for(kb.svc.db).clear(session)
    assert await _slugs(customer, "権限", locale="ja") == []
    await ensure_index(kb.svc)
    assert "user-permissions" in await _slugs(customer, "権限", locale="ja")


async def test_votes_count_once_per_customer(kb):
    article = next(a for a in await all_articles(kb.svc) if a.slug == "user-permissions")
    url = f"/api/v1/kb/articles/{article.id}/vote"
    first = await kb.customer(user="v1")
    assert (await first.post(url, {"helpful": True})).json()["helpful_count"] == 1
    again = (await first.post(url, {"helpful": True})).json()
    assert (again["helpful_count"], again["not_helpful_count"]) == (1, 0)
    changed = (await first.post(url, {"helpful": False})).json()
    assert (changed["helpful_count"], changed["not_helpful_count"]) == (0, 1)
    second = await kb.customer(user="v2", portal="other")
    both = (await second.post(url, {"helpful": True})).json()
    assert (both["helpful_count"], both["not_helpful_count"]) == (1, 1)
    agent = await kb.agent("Aiko", ["customer_support"], online=False)
    assert (await agent.post(url, {"helpful": True})).status_code == 403


async def test_deflections_and_views_are_counted(kb):
    article = next(a for a in await all_articles(kb.svc) if a.slug == "password-reset")
    customer = await kb.customer(user="d1", plan="free")
    for expected in (1, 2):
        response = await customer.post(
            "/api/v1/kb/deflections", {"article_id": article.id, "query": "パスワード 忘れた"}
        )
        assert response.status_code == 201
        assert response.json()["deflection_count"] == expected
    view = await customer.post(f"/api/v1/kb/articles/{article.id}/view")
    assert view.json()["view_count"] == 1
    shown = (await customer.get(f"/api/v1/kb/articles/{article.id}")).json()
    assert shown["deflection_count"] == 2 and shown["view_count"] == 1
    assert set(shown["translations"]) == {"ja", "en"}
    missing = await customer.post("/api/v1/kb/deflections", {"article_id": 999999})
    assert missing.status_code == 404


async def test_suggestions_shown_before_asking_are_kept_for_the_agent(kb):
    articles = {a.slug: a.id for a in await all_articles(kb.svc) if a.locale == "en"}
    shown = [
        articles["user-permissions"],
        articles["roles-and-groups"],
        articles["upcoming-ai-assistant"],
    ]
    customer = await kb.customer(user="asker")
    opened = await customer.post(
        "/api/v1/conversations",
        {"body": "I cannot change permissions", "client_key": "k1", "suggested_article_ids": shown},
    )
    assert opened.status_code == 201, opened.text
    conversation_id = opened.json()["conversation"]["id"]
    supervisor = await kb.agent("Sara", ["supervisor"], online=False)
    kept = (await supervisor.get(f"/api/v1/conversations/{conversation_id}/suggestions")).json()
    # Drafts are never kept (the widget could not have shown them).
    assert [a["slug"] for a in kept] == ["user-permissions", "roles-and-groups"]
    too_many = await customer.post(
        "/api/v1/conversations",
        {"body": "x", "client_key": "k2", "suggested_article_ids": list(range(1, 12))},
    )
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "kb_too_many_suggestions"


async def test_import_is_idempotent_and_export_round_trips(kb, tmp_path: Path):
    again = await import_articles(kb.svc, read_folder(DEMO_KB))
    assert (again.created, again.updated) == (0, 0) and again.unchanged >= 70
    write_folder(tmp_path, await all_articles(kb.svc))
    round_trip = await import_articles(kb.svc, read_folder(tmp_path))
    assert (round_trip.created, round_trip.updated) == (0, 0)
    edited = tmp_path / "password-reset.en.md"
    edited.write_text(
        edited.read_text(encoding="utf-8").replace("one hour", "two hours"), encoding="utf-8"
    )
    changed = await import_articles(kb.svc, read_folder(tmp_path))
    assert (changed.created, changed.updated) == (0, 1)
    admin = await kb.agent("Sara", ["admin"], online=False)
    article = next(
        a for a in await all_articles(kb.svc) if a.slug == "password-reset" and a.locale == "en"
    )
    versions = (await admin.get(f"/api/v1/kb/articles/{article.id}/versions")).json()
    assert [(v["version"], v["source"], v["changed"]) for v in versions] == [
        (2, "import", ["body"]),
        (1, "import", ["created"]),
    ]


async def test_bad_input_gets_stable_codes(kb):
    customer = await kb.customer()
    long = await customer.get(SEARCH, params={"q": "x" * 201})
    assert long.status_code == 422 and long.json()["error"]["code"] == "kb_query_too_long"
    assert (await customer.get(SEARCH, params={"q": "   "})).json() == []
    assert (await customer.get(SEARCH, params={"q": '"*():^ OR AND NEAR'})).status_code == 200
    assert (await customer.get(SEARCH, params={"q": "'設定' & !"})).status_code == 200
    anonymous = await kb.http.get(SEARCH, params={"q": "設定"})
    assert anonymous.status_code == 401


async def test_search_works_before_any_article_exists(live):
    customer = await live.customer()
    response = await customer.get(SEARCH, params={"q": "設定"})
    assert response.status_code == 200 and response.json() == []
