"""Reads for the board, the topic page, the request queue and the customers' "My
requests"; and the loaders that give 404 for what the caller may not see."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.core.errors import not_found
from supportdesk.identity.models import Portal
from supportdesk.product import rules, similarity
from supportdesk.product.models import (
    DevRequest,
    RequestEvent,
    RequestNotice,
    Topic,
    TopicComment,
    TopicLink,
)


async def access_topic_by_id(session: AsyncSession, topic_id: int, *, lock: bool = False) -> Topic:
    """Topics are staff data; the API only lets staff reach this loader."""
    query = select(Topic).where(Topic.id == topic_id)
    if lock:
        query = query.with_for_update()
    topic = await session.scalar(query)
    if topic is None:
        raise not_found()
    return topic


async def access_request_by_number(
    session: AsyncSession, number: int, *, lock: bool = False
) -> DevRequest:
    query = select(DevRequest).where(DevRequest.number == number)
    if lock:
        query = query.with_for_update()
    request = await session.scalar(query)
    if request is None:
        raise not_found()
    return request


async def access_bug_by_id(session: AsyncSession, link_id: int) -> TopicLink:
    """A bug report (a wish's id is 404 here, like an unknown one)."""
    link = await session.scalar(
        select(TopicLink).where(TopicLink.id == link_id, TopicLink.kind == "bug")
    )
    if link is None:
        raise not_found()
    return link


async def request_of_topic(
    session: AsyncSession, topic_id: int, *, lock: bool = False
) -> DevRequest | None:
    query = select(DevRequest).where(DevRequest.topic_id == topic_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def conversations_told(
    session: AsyncSession, request_id: int, conversation_ids: Sequence[int]
) -> set[int]:
    """Those of ``conversation_ids`` that already have a notice of the request."""
    if not conversation_ids:
        return set()
    rows = await session.scalars(
        select(RequestNotice.conversation_id)
        .join(RequestEvent, RequestEvent.id == RequestNotice.event_id)
        .where(
            RequestEvent.request_id == request_id,
            RequestNotice.conversation_id.in_(conversation_ids),
        )
        .distinct()
    )
    return set(rows)


async def merge_tree(session: AsyncSession) -> dict[int, int | None]:
    """Topic id -> the topic it is merged into (``None`` for a root)."""
    rows = await session.execute(select(Topic.id, Topic.merged_into_id))
    return {topic_id: merged_into for topic_id, merged_into in rows}


async def linked_conversations(session: AsyncSession, topic_id: int) -> list[int]:
    """Every conversation linked to the topic or to a topic merged into it."""
    group = rules.group_of(topic_id, await merge_tree(session))
    rows = await session.scalars(
        select(TopicLink.conversation_id).where(TopicLink.topic_id.in_(group)).distinct()
    )
    return sorted(rows)


# --- the board -----------------------------------------------------------------------------


@dataclass
class TopicSummary:
    id: int
    title: str
    description: str
    state: str
    mentions: int
    score: float
    links: int
    recent_mentions: int  # distinct portals with a link in the last 30 days
    previous_mentions: int  # ... in the 30 days before that (the trend compares the two)
    merged_topic_ids: list[int]
    request: str | None
    created_at: datetime
    updated_at: datetime


@dataclass
class _Demand:
    mentions: list[rules.Mention] = field(default_factory=list)
    links: int = 0
    recent: set[int] = field(default_factory=set)
    previous: set[int] = field(default_factory=set)


async def _demand(
    session: AsyncSession, tree: Mapping[int, int | None], now: datetime
) -> dict[int, _Demand]:
    """Per root topic: each portal's latest mention (with its plan), and link counts."""
    rows = await session.execute(
        select(
            TopicLink.topic_id,
            TopicLink.portal_id,
            Portal.plan_code,
            func.max(TopicLink.created_at),
            func.count(),
        )
        .join(Portal, Portal.id == TopicLink.portal_id)
        .group_by(TopicLink.topic_id, TopicLink.portal_id, Portal.plan_code)
    )
    demand: dict[int, _Demand] = defaultdict(_Demand)
    recent_from = now - timedelta(days=rules.TREND_DAYS)
    previous_from = recent_from - timedelta(days=rules.TREND_DAYS)
    for topic_id, portal_id, plan_code, latest, count in rows:
        entry = demand[rules.root_of(topic_id, tree)]
        entry.mentions.append(rules.Mention(portal_id, plan_code, latest))
        entry.links += count
        if latest >= recent_from:
            entry.recent.add(portal_id)
        elif latest >= previous_from:
            entry.previous.add(portal_id)
    return demand


async def board(
    session: AsyncSession,
    now: datetime,
    weights: Mapping[str, float],
    *,
    state: str | None = None,
    q: str = "",
) -> list[TopicSummary]:
    """Root topics ranked by score, then mentions, then oldest first."""
    tree = await merge_tree(session)
    demand = await _demand(session, tree, now)
    query = select(Topic).where(Topic.merged_into_id.is_(None))
    if state:
        query = query.where(Topic.state == rules.check_topic_state(state))
    topics = list(await session.scalars(query))
    needle = q.strip().casefold()
    if needle:
        topics = [
            t for t in topics if needle in t.title.casefold() or needle in t.description.casefold()
        ]
    numbers = {
        topic_id: number
        for topic_id, number in await session.execute(
            select(DevRequest.topic_id, DevRequest.number)
        )
    }
    children: dict[int, list[int]] = defaultdict(list)
    for topic_id in tree:
        root = rules.root_of(topic_id, tree)
        if root != topic_id:
            children[root].append(topic_id)
    summaries = []
    for topic in topics:
        entry = demand.get(topic.id, _Demand())
        summaries.append(
            TopicSummary(
                id=topic.id,
                title=topic.title,
                description=topic.description,
                state=topic.state,
                mentions=rules.mentions(entry.mentions),
                score=round(rules.score(entry.mentions, now, weights), 4),
                links=entry.links,
                recent_mentions=len(entry.recent),
                previous_mentions=len(entry.previous),
                merged_topic_ids=sorted(children.get(topic.id, [])),
                request=rules.request_label(numbers[topic.id]) if topic.id in numbers else None,
                created_at=topic.created_at,
                updated_at=topic.updated_at,
            )
        )
    summaries.sort(key=lambda s: rules.rank_key(s.score, s.mentions, s.created_at, s.id))
    return summaries


async def similar_topics(session: AsyncSession, text: str, limit: int) -> list[tuple[Topic, float]]:
    """Root topics like ``text``: title, description and the quotes of their links."""
    tree = await merge_tree(session)
    roots = {
        t.id: t for t in await session.scalars(select(Topic).where(Topic.merged_into_id.is_(None)))
    }
    texts: dict[int, list[str]] = {tid: [t.title, t.description] for tid, t in roots.items()}
    for topic_id, quote in await session.execute(select(TopicLink.topic_id, TopicLink.quote)):
        root = rules.root_of(topic_id, tree)
        if root in texts and quote:
            texts[root].append(quote)
    ranked = similarity.rank(
        text, [similarity.Candidate(tid, "\n".join(parts)) for tid, parts in texts.items()], limit
    )
    return [(roots[tid], value) for tid, value in ranked]


# --- one topic -----------------------------------------------------------------------------


@dataclass
class TopicDetail:
    topic: Topic
    summary: TopicSummary | None
    links: list[dict[str, Any]]
    comments: list[TopicComment]
    request: DevRequest | None
    history: list[RequestEvent]


async def topic_detail(
    session: AsyncSession, topic_id: int, now: datetime, weights: Mapping[str, float]
) -> TopicDetail:
    topic = await access_topic_by_id(session, topic_id)
    tree = await merge_tree(session)
    group = rules.group_of(topic.id, tree) if topic.merged_into_id is None else {topic.id}
    rows = await session.execute(
        select(TopicLink, Portal.external_id)
        .join(Portal, Portal.id == TopicLink.portal_id)
        .where(TopicLink.topic_id.in_(group))
        .order_by(TopicLink.id)
    )
    links = [link_view(link, external) for link, external in rows]
    comments = list(
        await session.scalars(
            select(TopicComment).where(TopicComment.topic_id == topic.id).order_by(TopicComment.id)
        )
    )
    request = await request_of_topic(session, topic.id)
    history = await request_history(session, [request.id]) if request else {}
    summary = None
    if topic.merged_into_id is None:
        summary = next((s for s in await board(session, now, weights) if s.id == topic.id), None)
    return TopicDetail(
        topic, summary, links, comments, request, history.get(request.id, []) if request else []
    )


def link_view(link: TopicLink, portal_external_id: str) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": link.id,
        "topic_id": link.topic_id,
        "kind": link.kind,
        "conversation_id": link.conversation_id,
        "portal_id": link.portal_id,
        "portal": portal_external_id,
        "agent_id": link.agent_id,
        "quote": link.quote,
        "created_at": link.created_at,
    }
    if link.kind == "bug":
        view.update(
            steps=link.steps,
            expected=link.expected,
            actual=link.actual,
            attachment_ids=list(link.attachment_ids),
        )
    return view


# --- requests ------------------------------------------------------------------------------


async def request_history(
    session: AsyncSession, request_ids: Sequence[int]
) -> dict[int, list[RequestEvent]]:
    found: dict[int, list[RequestEvent]] = defaultdict(list)
    if request_ids:
        for event in await session.scalars(
            select(RequestEvent)
            .where(
                RequestEvent.request_id.in_(request_ids),
                # A catch-up told one conversation; it is not a change of the request.
                RequestEvent.change.in_(rules.HISTORY_CHANGES),
            )
            .order_by(RequestEvent.id)
        ):
            found[event.request_id].append(event)
    return found


async def list_requests(session: AsyncSession, status: str | None = None) -> list[DevRequest]:
    query = select(DevRequest).order_by(DevRequest.number)
    if status:
        query = query.where(DevRequest.status == rules.check_request_status(status))
    return list(await session.scalars(query))


async def portal_requests(session: AsyncSession, portal_id: int) -> list[DevRequest]:
    """The requests whose topic group has a link from ``portal_id``."""
    tree = await merge_tree(session)
    linked = await session.scalars(
        select(TopicLink.topic_id).where(TopicLink.portal_id == portal_id).distinct()
    )
    roots = {rules.root_of(topic_id, tree) for topic_id in linked}
    if not roots:
        return []
    return list(
        await session.scalars(
            select(DevRequest).where(DevRequest.topic_id.in_(roots)).order_by(DevRequest.number)
        )
    )
