"""Knowledge-base HTTP API: search, reading, feedback, deflection, editing, preview."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from supportdesk.deps import AgentDep, CustomerDep, PrincipalDep, SvcDep
from supportdesk.knowledge import actions, queries, rules
from supportdesk.knowledge.models import Article, ArticleVersion
from supportdesk.knowledge.render import render_markdown
from supportdesk.realtime.events import ItemPublic

router = APIRouter(prefix="/api/v1", tags=["knowledge base"])

# Lengths are checked by the rules with their own error codes; this cap only stops absurd
# bodies before they are parsed further.
HARD_CAP = 1_000_000


class ArticleSummary(BaseModel):
    id: int
    slug: str
    locale: str
    title: str
    category: str
    tags: list[str]
    status: str


class SearchHit(ArticleSummary):
    snippet_html: str  # escaped text with <mark> around the matches
    match: Literal["words", "grams", "any"]


class ArticlePublic(ArticleSummary):
    body: str  # the Markdown source
    html: str  # rendered and sanitised
    version: int
    view_count: int
    helpful_count: int
    not_helpful_count: int
    deflection_count: int
    translations: dict[str, int]  # locale -> article id, this article included
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


class ArticleIn(BaseModel):
    slug: str = Field(max_length=HARD_CAP)
    locale: Literal["ja", "en"]
    title: str = Field(max_length=HARD_CAP)
    body: str = Field(max_length=HARD_CAP)
    category: str = Field(max_length=HARD_CAP)
    tags: list[str] = Field(default_factory=list, max_length=1000)
    status: Literal["draft", "published"] = "draft"

    def draft(self) -> rules.ArticleDraft:
        return rules.check_article(
            self.slug, self.locale, self.title, self.body, self.category, self.tags, self.status
        )


class VersionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    title: str
    body: str
    category: str
    tags: list[str]
    status: str
    changed: list[str]
    changed_by: int | None
    source: str
    created_at: datetime


class VoteIn(BaseModel):
    helpful: bool


class VoteOut(BaseModel):
    article_id: int
    helpful: bool
    helpful_count: int
    not_helpful_count: int


class DeflectionIn(BaseModel):
    article_id: int
    query: str = Field(default="", max_length=HARD_CAP)


class DeflectionOut(BaseModel):
    article_id: int
    deflection_count: int


class ViewOut(BaseModel):
    article_id: int
    view_count: int


class PreviewIn(BaseModel):
    body: str = Field(max_length=HARD_CAP)


class PreviewOut(BaseModel):
    html: str


def _summary(article: Article) -> dict[str, object]:
    return {
        "id": article.id,
        "slug": article.slug,
        "locale": article.locale,
        "title": article.title,
        "category": article.category,
        "tags": list(article.tags),
        "status": article.status,
    }


def _public(article: Article, translations: dict[str, int]) -> ArticlePublic:
    return ArticlePublic(
        **_summary(article),
        body=article.body,
        html=render_markdown(article.body),
        version=article.version,
        view_count=article.view_count,
        helpful_count=article.helpful_count,
        not_helpful_count=article.not_helpful_count,
        deflection_count=article.deflection_count,
        translations=translations,
        created_at=article.created_at,
        updated_at=article.updated_at,
        published_at=article.published_at,
    )


_MATCH: dict[int, Literal["words", "grams", "any"]] = {1: "words", 2: "grams", 3: "any"}


@router.get("/kb/search")
async def search(
    principal: PrincipalDep,
    svc: SvcDep,
    q: str = Query(default="", max_length=HARD_CAP),
    locale: Literal["ja", "en"] | None = None,
    limit: int = Query(default=10, ge=1, le=50),
    include_drafts: bool = False,
) -> list[SearchHit]:
    """Articles matching ``q``: the caller's language first (``locale`` or the caller's own),
    then the other language for articles not shown in the first. Customers only ever get
    published articles; editors may add ``include_drafts=true``."""
    results = await queries.search_articles(
        svc,
        principal,
        q,
        locale or principal.locale,
        limit,
        include_drafts=include_drafts,
    )
    return [
        SearchHit(
            **_summary(r.article),
            snippet_html=r.snippet,
            match=_MATCH[r.stage],
        )
        for r in results
    ]


@router.get("/kb/articles/{article_id}")
async def get_article(article_id: int, principal: PrincipalDep, svc: SvcDep) -> ArticlePublic:
    """A published article for anyone signed in; a draft only for editors (else 404)."""
    async with svc.db.read() as session:
        article = await queries.access_article_by_id(session, principal, article_id)
        translations = await queries.translations_of(session, article)
    return _public(article, translations)


@router.post("/kb/articles/{article_id}/view")
async def record_view(article_id: int, principal: PrincipalDep, svc: SvcDep) -> ViewOut:
    """Count one opening of a published article (the widget calls this when it shows one)."""
    count = await actions.do_record_view(svc, principal, article_id)
    return ViewOut(article_id=article_id, view_count=count)


@router.post("/kb/articles/{article_id}/vote")
async def vote(article_id: int, body: VoteIn, customer: CustomerDep, svc: SvcDep) -> VoteOut:
    """ "Was this helpful?": one vote per customer and article (repeating it changes
    nothing; the other answer replaces the first)."""
    article = await actions.do_vote(svc, customer, article_id, body.helpful)
    return VoteOut(
        article_id=article.id,
        helpful=body.helpful,
        helpful_count=article.helpful_count,
        not_helpful_count=article.not_helpful_count,
    )


@router.post("/kb/deflections", status_code=201)
async def deflect(body: DeflectionIn, customer: CustomerDep, svc: SvcDep) -> DeflectionOut:
    """ "This solved my problem": the widget ends the ask flow and the article is credited."""
    article = await actions.do_deflect(svc, customer, body.article_id, body.query)
    return DeflectionOut(article_id=article.id, deflection_count=article.deflection_count)


@router.post("/kb/articles", status_code=201)
async def create_article(body: ArticleIn, agent: AgentDep, svc: SvcDep) -> ArticlePublic:
    rules.check_can_edit(agent)
    article = await actions.do_create_article(svc, agent, body.draft())
    return _public(article, {article.locale: article.id})


@router.put("/kb/articles/{article_id}")
async def update_article(
    article_id: int, body: ArticleIn, agent: AgentDep, svc: SvcDep
) -> ArticlePublic:
    """Save a new version (slug and locale must stay the article's own). Saving the same
    text again makes no version."""
    rules.check_can_edit(agent)
    article = await actions.do_update_article(svc, agent, article_id, body.draft())
    async with svc.db.read() as session:
        translations = await queries.translations_of(session, article)
    return _public(article, translations)


@router.delete("/kb/articles/{article_id}", status_code=204)
async def delete_article(article_id: int, agent: AgentDep, svc: SvcDep) -> None:
    """Delete (archive) an article: out of search and the customers' reach, versions kept;
    a later save with status draft or published restores it (editors)."""
    rules.check_can_edit(agent)
    await actions.do_delete_article(svc, agent, article_id)


@router.get("/kb/articles/{article_id}/versions")
async def list_versions(article_id: int, agent: AgentDep, svc: SvcDep) -> list[VersionPublic]:
    """Every saved state, newest first: who changed what and when (editors only)."""
    rules.check_can_edit(agent)
    async with svc.db.read() as session:
        versions: list[ArticleVersion] = list(
            await queries.list_versions(session, agent, article_id)
        )
    return [VersionPublic.model_validate(v) for v in versions]


@router.post("/kb/preview")
async def preview(body: PreviewIn, agent: AgentDep) -> PreviewOut:
    """The editor's preview: exactly what readers will get (rendered and sanitised)."""
    rules.check_can_edit(agent)
    rules.check_article("preview", "en", "preview", body.body, "preview", [], "draft")
    return PreviewOut(html=render_markdown(body.body))


@router.get("/conversations/{conversation_id}/suggestions")
async def conversation_suggestions(
    conversation_id: int, agent: AgentDep, svc: SvcDep
) -> list[ArticleSummary]:
    """The articles the widget showed the customer before they asked anyway."""
    async with svc.db.read() as session:
        articles = await queries.conversation_suggestions(session, agent, conversation_id)
    return [ArticleSummary(**_summary(a)) for a in articles]


class ArticleListed(ArticleSummary):
    version: int
    updated_at: datetime


@router.get("/kb/articles")
async def list_articles(
    agent: AgentDep,
    svc: SvcDep,
    locale: Literal["ja", "en"] | None = None,
    status: Literal["draft", "published", "archived"] | None = None,
    limit: int = Query(default=200, ge=1, le=queries.LIST_LIMIT),
) -> list[ArticleListed]:
    """The editor's list: every article, drafts included, newest change first (editors)."""
    async with svc.db.read() as session:
        articles = await queries.list_articles(
            session, agent, locale=locale, status=status, limit=limit
        )
    return [
        ArticleListed(**_summary(a), version=a.version, updated_at=a.updated_at) for a in articles
    ]


class ArticleCardIn(BaseModel):
    article_id: int = Field(ge=1)


@router.post("/conversations/{conversation_id}/article-cards", status_code=201)
async def share_article(
    conversation_id: int, body: ArticleCardIn, agent: AgentDep, svc: SvcDep
) -> ItemPublic:
    """Put a published article into the chat as an ``article`` card (the assigned agent
    or a supervisor; 404 for a draft or a missing article)."""
    return await actions.do_share_article(svc, agent, conversation_id, body.article_id)
