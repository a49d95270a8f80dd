"""Reads of the knowledge base: article access, search with snippets, versions, suggestions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.conversations.queries import access_conversation_by_id
from supportdesk.core.auth import AgentPrincipal, Principal
from supportdesk.core.errors import not_found
from supportdesk.knowledge import rules
from supportdesk.knowledge.models import Article, ArticleVersion, ConversationSuggestions, Status
from supportdesk.knowledge.render import plain_text
from supportdesk.knowledge.search import index_for, snippet
from supportdesk.services import Services


async def access_article_by_id(
    session: AsyncSession, principal: Principal, article_id: int, *, include_drafts: bool = True
) -> Article:
    """Published articles for everyone; drafts only for editors (404 for anyone else)."""
    article = await session.get(Article, article_id)
    if article is None:
        raise not_found()
    if article.status != Status.PUBLISHED and article.status not in rules.visible_statuses(
        principal, include_drafts
    ):
        raise not_found()
    return article


@dataclass(frozen=True, slots=True)
class SearchResult:
    article: Article
    snippet: str
    stage: int
    score: float


async def search_articles(
    svc: Services,
    principal: Principal,
    q: str,
    locale: str,
    limit: int,
    *,
    include_drafts: bool = False,
) -> list[SearchResult]:
    """Hits in ``locale`` first, then the other language's articles whose translation was
    not already shown; each with a highlighted snippet of its body."""
    q = rules.check_query(q)
    if not q:
        return []
    statuses = rules.visible_statuses(principal, include_drafts)
    index = index_for(svc.db)
    if not index.ready:
        # Creating the index tables is a write: never attempt it inside a read transaction.
        async with svc.db.write() as session:
            await index.ensure(session)
    results: list[SearchResult] = []
    shown_slugs: set[str] = set()
    async with svc.db.read() as session:
        q = await index.corrected(session, q)
        for language in rules.locale_order(locale):
            if len(results) >= limit:
                break
            hits = await index.search(session, q, locale=language, statuses=statuses, limit=limit)
            if not hits:
                continue
            rows = await session.scalars(
                select(Article).where(Article.id.in_([hit.article_id for hit in hits]))
            )
            by_id = {article.id: article for article in rows}
            for hit in hits:
                article = by_id.get(hit.article_id)
                # The index may lag a status change by nothing, but never trust it for drafts.
                if article is None or article.status not in statuses:
                    continue
                if article.slug in shown_slugs:
                    continue
                shown_slugs.add(article.slug)
                results.append(
                    SearchResult(
                        article, snippet(plain_text(article.body), q), hit.stage, hit.score
                    )
                )
                if len(results) >= limit:
                    break
    return results


async def list_versions(
    session: AsyncSession, agent: AgentPrincipal, article_id: int
) -> Sequence[ArticleVersion]:
    await access_article_by_id(session, agent, article_id)
    rows = await session.scalars(
        select(ArticleVersion)
        .where(ArticleVersion.article_id == article_id)
        .order_by(ArticleVersion.version.desc())
    )
    return rows.all()


async def translations_of(session: AsyncSession, article: Article) -> dict[str, int]:
    rows = await session.execute(
        select(Article.locale, Article.id).where(Article.slug == article.slug)
    )
    return {str(locale): int(article_id) for locale, article_id in rows}


async def conversation_suggestions(
    session: AsyncSession, agent: AgentPrincipal, conversation_id: int
) -> list[Article]:
    """The articles the customer was shown before asking, in the order shown."""
    await access_conversation_by_id(session, agent, conversation_id)
    kept = await session.get(ConversationSuggestions, conversation_id)
    if kept is None or not kept.article_ids:
        return []
    rows = await session.scalars(select(Article).where(Article.id.in_(kept.article_ids)))
    by_id = {article.id: article for article in rows}
    return [by_id[i] for i in kept.article_ids if i in by_id]


LIST_LIMIT = 500


async def list_articles(
    session: AsyncSession,
    agent: AgentPrincipal,
    *,
    locale: str | None,
    status: str | None,
    limit: int,
) -> Sequence[Article]:
    """Every article for the editor, drafts included, newest change first; deleted ones
    only when asked for by status."""
    rules.check_can_edit(agent)
    query = select(Article).order_by(Article.updated_at.desc(), Article.id.desc()).limit(limit)
    if locale is not None:
        query = query.where(Article.locale == locale)
    if status is not None:
        query = query.where(Article.status == status)
    else:
        query = query.where(Article.status != Status.ARCHIVED)
    return (await session.scalars(query)).all()
