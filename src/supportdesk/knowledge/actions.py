"""Every change to the knowledge base, as ``do_*`` functions.

An article and its search-index entry are written in the same transaction, so a search
never finds an article that is not there (or misses one that is). Every saved change makes
a version row; a save that changes nothing makes none (so re-importing a folder is a no-op).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.audit import actions as audit
from supportdesk.conversations.models import ItemKind
from supportdesk.conversations.queries import access_conversation_by_id
from supportdesk.conversations.rules import check_post
from supportdesk.conversations.timeline import Draft, append_items, facts_of, item_events
from supportdesk.core.auth import AgentPrincipal, CustomerPrincipal
from supportdesk.core.clock import utcnow
from supportdesk.core.errors import DomainError, conflict, not_found
from supportdesk.knowledge import rules
from supportdesk.knowledge.models import (
    Article,
    ArticleVersion,
    ArticleVote,
    ConversationSuggestions,
    Deflection,
    Status,
)
from supportdesk.knowledge.queries import access_article_by_id
from supportdesk.knowledge.render import plain_text
from supportdesk.knowledge.search import IndexDoc, index_for
from supportdesk.realtime.events import ItemPublic
from supportdesk.services import Services

PARALLEL_REINDEX_FROM = 2_000  # articles
INDEX_LOCK = 0x5D_4B42  # pg_advisory_xact_lock key: app processes start side by side


def index_doc(article: Article) -> IndexDoc:
    return IndexDoc(
        article.id, article.locale, article.status, article.title, plain_text(article.body)
    )


def draft_of(article: Article) -> rules.ArticleDraft:
    return rules.ArticleDraft(
        article.slug,
        article.locale,
        article.title,
        article.body,
        article.category,
        tuple(article.tags),
        article.status,
    )


def _version(
    article: Article, changed: list[str], agent_id: int | None, source: str
) -> ArticleVersion:
    return ArticleVersion(
        article_id=article.id,
        version=article.version,
        title=article.title,
        body=article.body,
        category=article.category,
        tags=list(article.tags),
        status=article.status,
        changed=changed,
        changed_by=agent_id,
        source=source,
        created_at=article.updated_at,
    )


async def _create(
    svc: Services,
    session: AsyncSession,
    draft: rules.ArticleDraft,
    agent_id: int | None,
    source: str,
) -> Article:
    now = utcnow()
    article = Article(
        slug=draft.slug,
        locale=draft.locale,
        title=draft.title,
        body=draft.body,
        category=draft.category,
        tags=list(draft.tags),
        status=draft.status,
        version=1,
        view_count=0,
        helpful_count=0,
        not_helpful_count=0,
        deflection_count=0,
        created_by=agent_id,
        updated_by=agent_id,
        created_at=now,
        updated_at=now,
        published_at=now if draft.status == Status.PUBLISHED else None,
    )
    session.add(article)
    await session.flush()
    session.add(_version(article, ["created"], agent_id, source))
    await index_for(svc.db).upsert(session, [index_doc(article)])
    return article


async def _update(
    svc: Services,
    session: AsyncSession,
    article: Article,
    draft: rules.ArticleDraft,
    agent_id: int | None,
    source: str,
) -> list[str]:
    changed = rules.changed_fields(draft_of(article), draft)
    if not changed:
        return []
    now = utcnow()
    if draft.status == Status.PUBLISHED and article.status != Status.PUBLISHED:
        article.published_at = now
    article.title, article.body = draft.title, draft.body
    article.category, article.tags, article.status = draft.category, list(draft.tags), draft.status
    article.version += 1
    article.updated_by, article.updated_at = agent_id, now
    await session.flush()
    session.add(_version(article, changed, agent_id, source))
    await index_for(svc.db).upsert(session, [index_doc(article)])
    return changed


async def do_delete_article(svc: Services, agent: AgentPrincipal, article_id: int) -> None:
    """Delete an article the way help centres do: it leaves search, the customer's reach and
    the export, but keeps its versions, votes and deflections, and saving it again with a
    draft or published status restores it. Deleting it twice changes nothing."""
    rules.check_can_edit(agent)
    async with svc.db.write() as session:
        article = await access_article_by_id(session, agent, article_id)
        if article.status == Status.ARCHIVED:
            return
        article.status = Status.ARCHIVED.value
        article.version += 1
        article.updated_by, article.updated_at = agent.agent_id, utcnow()
        await session.flush()
        session.add(_version(article, ["status"], agent.agent_id, "editor"))
        await index_for(svc.db).delete(session, [article.id])
        audit.record(
            session,
            agent,
            "kb_article.deleted",
            subject_type="kb_article",
            subject_id=article.id,
            version=article.version,
        )


async def do_create_article(
    svc: Services, agent: AgentPrincipal, draft: rules.ArticleDraft
) -> Article:
    rules.check_can_edit(agent)
    try:
        async with svc.db.write() as session:
            taken = await session.scalar(
                select(Article.id).where(Article.slug == draft.slug, Article.locale == draft.locale)
            )
            if taken is not None:
                raise conflict("kb_slug_taken", slug=draft.slug)
            article = await _create(svc, session, draft, agent.agent_id, "editor")
            audit.record(
                session,
                agent,
                "kb_article.created",
                subject_type="kb_article",
                subject_id=article.id,
                slug=article.slug,
                locale=article.locale,
                status=article.status,
            )
    except IntegrityError:
        raise conflict("kb_slug_taken", slug=draft.slug) from None
    return article


async def do_update_article(
    svc: Services, agent: AgentPrincipal, article_id: int, draft: rules.ArticleDraft
) -> Article:
    """Save the editor's text. The slug and locale identify the article and do not change."""
    rules.check_can_edit(agent)
    async with svc.db.write() as session:
        article = await access_article_by_id(session, agent, article_id)
        if (draft.slug, draft.locale) != (article.slug, article.locale):
            raise DomainError("kb_slug_taken", 409, params={"slug": draft.slug})
        changed = await _update(svc, session, article, draft, agent.agent_id, "editor")
        if changed:
            audit.record(
                session,
                agent,
                "kb_article.updated",
                subject_type="kb_article",
                subject_id=article.id,
                version=article.version,
                changed=changed,
            )
    return article


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int


async def import_articles(svc: Services, drafts: Sequence[rules.ArticleDraft]) -> ImportReport:
    """Create or update articles matched by slug and locale, in one transaction.

    An article whose text is the same as the file's is left alone: no version, no write.
    """
    created = updated = unchanged = 0
    async with svc.db.write() as session:
        for draft in drafts:
            article = await session.scalar(
                select(Article).where(Article.slug == draft.slug, Article.locale == draft.locale)
            )
            if article is None:
                article = await _create(svc, session, draft, None, "import")
                created += 1
            elif await _update(svc, session, article, draft, None, "import"):
                updated += 1
            else:
                unchanged += 1
        if created or updated:
            audit.record(
                session,
                None,
                "kb_article.imported",
                subject_type="kb_article",
                subject_id=None,
                created=created,
                updated=updated,
            )
    return ImportReport(created, updated, unchanged)


async def all_articles(svc: Services) -> list[Article]:
    """Every article but the deleted ones (what ``kb export`` writes)."""
    async with svc.db.read() as session:
        rows = await session.scalars(
            select(Article)
            .where(Article.status != Status.ARCHIVED)
            .order_by(Article.slug, Article.locale)
        )
        return list(rows)


async def ensure_index(svc: Services) -> None:
    """Create the search index, and rebuild it when it is empty while articles exist: a
    database moved to another engine, an index of an older layout, or a lost index."""
    index = index_for(svc.db)
    async with svc.db.write() as session:
        if not svc.db.is_sqlite:
            # Several app processes start at once; two concurrent CREATE TABLE IF NOT
            # EXISTS collide on PostgreSQL's catalog, so one at a time.
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": INDEX_LOCK})
        empty = await index.is_empty(session)
        has_articles = await session.scalar(select(Article.id).limit(1)) is not None
    if empty and has_articles:
        await reindex(svc)


async def reindex(svc: Services, batch: int = 500) -> int:
    """Rebuild the search index from the articles (after a crash, or an engine change)."""
    index = index_for(svc.db)
    async with svc.db.write() as session:
        total = await session.scalar(select(func.count()).select_from(Article)) or 0
        # Worker processes pay for themselves only on a large knowledge base: each one
        # loads the Sudachi dictionary first.
        workers = (os.cpu_count() or 1) if total >= PARALLEL_REINDEX_FROM else 1

        async def batches() -> AsyncIterator[list[IndexDoc]]:
            last = 0
            while rows := list(
                await session.scalars(
                    select(Article)
                    .where(Article.id > last, Article.status != Status.ARCHIVED)
                    .order_by(Article.id)
                    .limit(batch)
                )
            ):
                last = rows[-1].id
                yield [index_doc(article) for article in rows]

        return await index.rebuild(session, batches(), workers)


async def do_record_view(
    svc: Services, customer: CustomerPrincipal | AgentPrincipal, article_id: int
) -> int:
    async with svc.db.write() as session:
        article = await access_article_by_id(session, customer, article_id, include_drafts=False)
        # One atomic increment: concurrent views are never lost.
        count = await session.scalar(
            update(Article)
            .where(Article.id == article.id)
            .values(view_count=Article.view_count + 1)
            .returning(Article.view_count)
            .execution_options(synchronize_session=False)
        )
        return int(count or 0)


async def do_vote(
    svc: Services, customer: CustomerPrincipal, article_id: int, helpful: bool
) -> Article:
    """One vote per customer and article: voting again the same way changes nothing,
    voting the other way moves the vote (the counts stay one per customer)."""
    now = utcnow()
    for attempt in range(2):
        try:
            async with svc.db.write() as session:
                article = await access_article_by_id(
                    session, customer, article_id, include_drafts=False
                )
                vote = await session.scalar(
                    select(ArticleVote).where(
                        ArticleVote.article_id == article.id,
                        ArticleVote.user_id == customer.user_id,
                    )
                )
                if vote is None:
                    session.add(
                        ArticleVote(
                            article_id=article.id,
                            user_id=customer.user_id,
                            helpful=helpful,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                    _count(article, helpful, +1)
                elif vote.helpful != helpful:
                    _count(article, vote.helpful, -1)
                    _count(article, helpful, +1)
                    vote.helpful, vote.updated_at = helpful, now
                await session.flush()
                await session.refresh(article)
            return article
        except IntegrityError:
            # A double click raced the first vote: the second attempt finds it.
            if attempt:
                raise
    raise not_found()  # pragma: no cover - the loop always returns or raises


def _count(article: Article, helpful: bool, delta: int) -> None:
    # SQL expressions, not Python sums: two customers voting at once on PostgreSQL must
    # not overwrite each other's count (the row is re-read after the flush).
    if helpful:
        article.helpful_count = Article.helpful_count + delta
    else:
        article.not_helpful_count = Article.not_helpful_count + delta


async def do_deflect(
    svc: Services, customer: CustomerPrincipal, article_id: int, query: str
) -> Article:
    """ "This solved my problem": counted on the article, with the question that led there."""
    query = rules.check_deflection_query(query)
    async with svc.db.write() as session:
        article = await access_article_by_id(session, customer, article_id, include_drafts=False)
        session.add(
            Deflection(
                article_id=article.id,
                portal_id=customer.portal_id,
                user_id=customer.user_id,
                query=query,
                created_at=utcnow(),
            )
        )
        article.deflection_count = Article.deflection_count + 1
        await session.flush()
        await session.refresh(article)
    return article


async def do_keep_suggestions(
    svc: Services, customer: CustomerPrincipal, conversation_id: int, article_ids: list[int]
) -> None:
    """Keep the published articles the widget suggested before the customer asked."""
    ids = rules.check_suggestions(article_ids)
    if not ids:
        return
    async with svc.db.write() as session:
        published = set(
            await session.scalars(
                select(Article.id).where(
                    Article.id.in_(ids), Article.status == Status.PUBLISHED.value
                )
            )
        )
        kept = [i for i in ids if i in published]
        if kept and await session.get(ConversationSuggestions, conversation_id) is None:
            session.add(
                ConversationSuggestions(
                    conversation_id=conversation_id, article_ids=kept, created_at=utcnow()
                )
            )


async def do_share_article(
    svc: Services, agent: AgentPrincipal, conversation_id: int, article_id: int
) -> ItemPublic:
    """An agent who may write in the conversation shares a published article: the chat
    gets an ``article`` card (title and locale copied, so the card reads the same after
    the article changes), published live after the commit like every other item."""
    now = utcnow()
    async with svc.db.write() as session:
        conv, facts = await access_conversation_by_id(session, agent, conversation_id, lock=True)
        # The same rule as an agent's message: the assignee or a supervisor, not after
        # the conversation is resolved.
        check_post(agent, facts, internal=False)
        article = await access_article_by_id(session, agent, article_id, include_drafts=False)
        items = await append_items(
            session,
            conv,
            [
                Draft(
                    ItemKind.CARD,
                    agent,
                    data={
                        "card": "article",
                        "article_id": article.id,
                        "title": article.title,
                        "locale": article.locale,
                    },
                )
            ],
            now,
        )
        audit.record(
            session,
            agent,
            "kb_article.shared",
            subject_type="conversation",
            subject_id=conv.id,
            portal_id=conv.portal_id,
            article_id=article.id,
        )
        facts = facts_of(conv, facts.participant_ids)
    await svc.bus.publish(item_events(facts, items))
    return items[0]
