"""HTTP: recording wishes and bugs, the board, topics, requests, integration tokens and
the customers' "My requests"."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from supportdesk.core.errors import DomainError
from supportdesk.deps import AdminDep, AgentDep, CustomerDep, SvcDep, _bearer
from supportdesk.product import actions, queries, rules, texts
from supportdesk.product.models import DevRequest, RequestEvent, Topic, TopicComment

router = APIRouter(prefix="/api/v1", tags=["product"])

HARD_CAP = 100_000


def _weights(svc: Any) -> dict[str, float]:
    return rules.parse_plan_weights(svc.settings.plan_weights)


# --- shapes ----------------------------------------------------------------------------------


class NewTopicIn(BaseModel):
    title: str = Field(max_length=HARD_CAP)
    description: str = Field(default="", max_length=HARD_CAP)

    def draft(self) -> actions.NewTopic:
        return actions.NewTopic(self.title, self.description)


class WishIn(BaseModel):
    quote: str = Field(max_length=HARD_CAP)
    topic_id: int | None = None
    new_topic: NewTopicIn | None = None


class BugIn(BaseModel):
    steps: str = Field(max_length=HARD_CAP)
    expected: str = Field(max_length=HARD_CAP)
    actual: str = Field(max_length=HARD_CAP)
    attachment_ids: list[int] = Field(default_factory=list, max_length=1000)
    topic_id: int | None = None
    new_topic: NewTopicIn | None = None


class LinkOut(BaseModel):
    id: int
    kind: str
    topic_id: int
    topic_title: str
    conversation_id: int


class TopicOut(BaseModel):
    id: int
    title: str
    description: str
    state: str
    merged_into: int | None
    mentions: int = 0
    score: float = 0.0
    links: int = 0
    recent_mentions: int = 0
    previous_mentions: int = 0
    merged_topic_ids: list[int] = Field(default_factory=list)
    request: str | None = None
    created_at: datetime
    updated_at: datetime


def topic_out(topic: Topic, summary: queries.TopicSummary | None = None) -> TopicOut:
    extra: dict[str, Any] = {}
    if summary is not None:
        extra = {
            "mentions": summary.mentions,
            "score": summary.score,
            "links": summary.links,
            "recent_mentions": summary.recent_mentions,
            "previous_mentions": summary.previous_mentions,
            "merged_topic_ids": summary.merged_topic_ids,
            "request": summary.request,
        }
    return TopicOut(
        id=topic.id,
        title=topic.title,
        description=topic.description,
        state=topic.state,
        merged_into=topic.merged_into_id,
        created_at=topic.created_at,
        updated_at=topic.updated_at,
        **extra,
    )


def summary_out(s: queries.TopicSummary) -> TopicOut:
    return TopicOut(
        id=s.id,
        title=s.title,
        description=s.description,
        state=s.state,
        merged_into=None,
        mentions=s.mentions,
        score=s.score,
        links=s.links,
        recent_mentions=s.recent_mentions,
        previous_mentions=s.previous_mentions,
        merged_topic_ids=s.merged_topic_ids,
        request=s.request,
        created_at=s.created_at,
        updated_at=s.updated_at,
    )


class HistoryOut(BaseModel):
    change: str
    status: str
    title: str
    at: datetime


class RequestOut(BaseModel):
    number: str
    kind: str
    title: str
    complexity: str
    status: str
    topic_id: int
    created_at: datetime
    updated_at: datetime
    history: list[HistoryOut] = Field(default_factory=list)


def request_out(request: DevRequest, history: list[RequestEvent] | None = None) -> RequestOut:
    return RequestOut(
        number=rules.request_label(request.number),
        kind=request.kind,
        title=request.title,
        complexity=request.complexity,
        status=request.status,
        topic_id=request.topic_id,
        created_at=request.created_at,
        updated_at=request.updated_at,
        history=[HistoryOut(**h) for h in actions.history_view(history or [])],
    )


class CommentOut(BaseModel):
    id: int
    topic_id: int
    agent_id: int
    author_name: str
    body: str
    created_at: datetime


def comment_out(c: TopicComment) -> CommentOut:
    return CommentOut(
        id=c.id,
        topic_id=c.topic_id,
        agent_id=c.agent_id,
        author_name=c.author_name,
        body=c.body,
        created_at=c.created_at,
    )


class TopicDetailOut(BaseModel):
    topic: TopicOut
    links: list[dict[str, Any]]
    comments: list[CommentOut]
    request: RequestOut | None
    score_formula: str


SCORE_FORMULA = (
    "score = Σ over distinct portals of w(plan) · 0.5^(age_days / 90), "
    "age_days = days since that portal's most recent mention; ties: mentions, then oldest topic"
)


# --- recording -------------------------------------------------------------------------------


def _link_out(result: tuple[Any, Topic]) -> LinkOut:
    link, topic = result
    return LinkOut(
        id=link.id,
        kind=link.kind,
        topic_id=topic.id,
        topic_title=topic.title,
        conversation_id=link.conversation_id,
    )


@router.post("/conversations/{conversation_id}/wishes", status_code=201)
async def record_wish(conversation_id: int, body: WishIn, agent: AgentDep, svc: SvcDep) -> LinkOut:
    """A wish with the customer's words, linked to an existing topic or a new one."""
    return _link_out(
        await actions.do_record_wish(
            svc,
            agent,
            conversation_id,
            body.quote,
            body.topic_id,
            body.new_topic.draft() if body.new_topic else None,
        )
    )


@router.post("/conversations/{conversation_id}/bugs", status_code=201)
async def file_bug(conversation_id: int, body: BugIn, agent: AgentDep, svc: SvcDep) -> LinkOut:
    """A bug report (tier 2): steps, expected, actual and attachments of the conversation."""
    bug = actions.BugDetails(body.steps, body.expected, body.actual, tuple(body.attachment_ids))
    return _link_out(
        await actions.do_file_bug(
            svc,
            agent,
            conversation_id,
            bug,
            body.topic_id,
            body.new_topic.draft() if body.new_topic else None,
        )
    )


# --- topics ------------------------------------------------------------------------------------


class SimilarOut(BaseModel):
    id: int
    title: str
    description: str
    state: str
    similarity: float


@router.get("/topics/similar")
async def similar_topics(
    agent: AgentDep,
    svc: SvcDep,
    text: str = Query(default="", max_length=5000),
    limit: int = Query(default=5, ge=1, le=20),
) -> list[SimilarOut]:
    """Existing topics like ``text`` (the KB analyser's words + fuzzy matching)."""
    async with svc.db.read() as session:
        found = await queries.similar_topics(session, text, limit)
    return [
        SimilarOut(
            id=t.id,
            title=t.title,
            description=t.description,
            state=t.state,
            similarity=round(value, 3),
        )
        for t, value in found
    ]


@router.get("/topics")
async def list_topics(
    agent: AgentDep,
    svc: SvcDep,
    state: str | None = Query(default=None, max_length=40),
    q: str = Query(default="", max_length=200),
    sort: Literal["score"] = "score",
) -> list[TopicOut]:
    """Root topics ranked by score (see ``score_formula`` on a topic)."""
    async with svc.db.read() as session:
        summaries = await queries.board(session, svc.clock(), _weights(svc), state=state, q=q)
    return [summary_out(s) for s in summaries]


@router.get("/topics/{topic_id}")
async def get_topic(topic_id: int, agent: AgentDep, svc: SvcDep) -> TopicDetailOut:
    async with svc.db.read() as session:
        detail = await queries.topic_detail(session, topic_id, svc.clock(), _weights(svc))
    return TopicDetailOut(
        topic=topic_out(detail.topic, detail.summary),
        links=detail.links,
        comments=[comment_out(c) for c in detail.comments],
        request=request_out(detail.request, detail.history) if detail.request else None,
        score_formula=SCORE_FORMULA,
    )


class CommentIn(BaseModel):
    body: str = Field(max_length=HARD_CAP)


@router.post("/topics/{topic_id}/comments", status_code=201)
async def comment(topic_id: int, body: CommentIn, agent: AgentDep, svc: SvcDep) -> CommentOut:
    """Internal discussion (staff only; never shown to customers)."""
    return comment_out(await actions.do_comment(svc, agent, topic_id, body.body))


class StateIn(BaseModel):
    state: str = Field(max_length=40)
    kind: str | None = Field(default=None, max_length=40)
    complexity: str = Field(default="M", max_length=40)
    title: str | None = Field(default=None, max_length=HARD_CAP)


@router.post("/topics/{topic_id}/state")
async def set_topic_state(topic_id: int, body: StateIn, agent: AgentDep, svc: SvcDep) -> TopicOut:
    """Product role only; ``accepted`` creates the development request."""
    acceptance = actions.Acceptance(body.kind, body.complexity, body.title)
    topic = await actions.do_set_topic_state(svc, agent, topic_id, body.state, acceptance)
    return await _fresh_topic(svc, topic.id)


class MergeIn(BaseModel):
    into: int


@router.post("/topics/{topic_id}/merge")
async def merge(topic_id: int, body: MergeIn, agent: AgentDep, svc: SvcDep) -> TopicOut:
    await actions.do_merge(svc, agent, topic_id, body.into)
    return await _fresh_topic(svc, body.into)


@router.post("/topics/{topic_id}/unmerge")
async def unmerge(topic_id: int, agent: AgentDep, svc: SvcDep) -> TopicOut:
    await actions.do_unmerge(svc, agent, topic_id)
    return await _fresh_topic(svc, topic_id)


async def _fresh_topic(svc: Any, topic_id: int) -> TopicOut:
    async with svc.db.read() as session:
        detail = await queries.topic_detail(session, topic_id, svc.clock(), _weights(svc))
    return topic_out(detail.topic, detail.summary)


# --- requests ---------------------------------------------------------------------------------


@router.get("/requests")
async def list_requests(
    agent: AgentDep, svc: SvcDep, status: str | None = Query(default=None, max_length=40)
) -> list[RequestOut]:
    async with svc.db.read() as session:
        found = await queries.list_requests(session, status)
        history = await queries.request_history(session, [r.id for r in found])
    return [request_out(r, history.get(r.id, [])) for r in found]


@router.get("/requests/{number}")
async def get_request(number: str, agent: AgentDep, svc: SvcDep) -> RequestOut:
    async with svc.db.read() as session:
        request = await queries.access_request_by_number(
            session, rules.parse_request_number(number)
        )
        history = await queries.request_history(session, [request.id])
    return request_out(request, history.get(request.id, []))


class RequestPatch(BaseModel):
    title: str | None = Field(default=None, max_length=HARD_CAP)
    complexity: str | None = Field(default=None, max_length=40)


@router.patch("/requests/{number}")
async def update_request(
    number: str, body: RequestPatch, agent: AgentDep, svc: SvcDep
) -> RequestOut:
    await actions.do_update_request(
        svc, agent, rules.parse_request_number(number), body.title, body.complexity
    )
    return await get_request(number, agent, svc)


class StatusIn(BaseModel):
    status: str = Field(max_length=40)
    client_key: str = Field(min_length=1, max_length=100)


class StatusOut(BaseModel):
    request: RequestOut
    changed: bool


@router.post("/requests/{number}/status")
async def set_status(number: str, body: StatusIn, agent: AgentDep, svc: SvcDep) -> StatusOut:
    """Product role; a repeated ``client_key`` or the current status changes nothing."""
    _, changed = await actions.do_set_request_status(
        svc, agent, rules.parse_request_number(number), body.status, body.client_key
    )
    return StatusOut(request=await get_request(number, agent, svc), changed=changed)


class ConfirmIn(BaseModel):
    complexity: str = Field(default="M", max_length=40)
    title: str | None = Field(default=None, max_length=HARD_CAP)


class ConfirmOut(BaseModel):
    request: RequestOut
    created: bool


@router.post("/bugs/{link_id}/confirm")
async def confirm_bug(
    link_id: int, agent: AgentDep, svc: SvcDep, body: ConfirmIn | None = None
) -> ConfirmOut:
    """Product role: the bug's topic is accepted with a ``bug`` request; when the topic
    already has a request, nothing changes and it is the answer (``created: false``)."""
    body = body or ConfirmIn()
    request, created = await actions.do_confirm_bug(
        svc, agent, link_id, body.complexity, body.title
    )
    async with svc.db.read() as session:
        history = await queries.request_history(session, [request.id])
    return ConfirmOut(request=request_out(request, history.get(request.id, [])), created=created)


async def get_integration(request: Request, svc: SvcDep) -> actions.IntegrationActor:
    """Only an integration token (``sdi_...``) reaches the tracker endpoint."""
    token = _bearer(request)
    if token is None:
        raise DomainError("authentication_required", 401)
    return await actions.authenticate_integration(svc, token)


IntegrationDep = Annotated[actions.IntegrationActor, Depends(get_integration)]


class IntegrationStatusIn(BaseModel):
    status: str = Field(max_length=40)


@router.put("/requests/{number}/status")
async def put_status(
    number: str, body: IntegrationStatusIn, integration: IntegrationDep, svc: SvcDep
) -> StatusOut:
    """An external tracker sets the status; setting the current one again is a no-op."""
    request, changed = await actions.do_set_request_status(
        svc, integration, rules.parse_request_number(number), body.status
    )
    async with svc.db.read() as session:
        history = await queries.request_history(session, [request.id])
    return StatusOut(request=request_out(request, history.get(request.id, [])), changed=changed)


# --- integration tokens (admins) ------------------------------------------------------------


class TokenIn(BaseModel):
    name: str = Field(max_length=HARD_CAP)


class TokenOut(BaseModel):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    token: str | None = None  # only in the answer that created it


@router.post("/admin/integration-tokens", status_code=201)
async def create_token(body: TokenIn, admin: AdminDep, svc: SvcDep) -> TokenOut:
    row, token = await actions.do_create_integration_token(svc, admin, body.name)
    return TokenOut(id=row.id, name=row.name, created_at=row.created_at, token=token)


@router.get("/admin/integration-tokens")
async def list_tokens(admin: AdminDep, svc: SvcDep) -> list[TokenOut]:
    from sqlalchemy import select

    from supportdesk.product.models import IntegrationToken

    async with svc.db.read() as session:
        rows = await session.scalars(select(IntegrationToken).order_by(IntegrationToken.id))
        return [
            TokenOut(
                id=r.id,
                name=r.name,
                created_at=r.created_at,
                last_used_at=r.last_used_at,
                revoked_at=r.revoked_at,
            )
            for r in rows
        ]


@router.delete("/admin/integration-tokens/{token_id}", status_code=204)
async def revoke_token(token_id: int, admin: AdminDep, svc: SvcDep) -> Response:
    await actions.do_revoke_integration_token(svc, admin, token_id)
    return Response(status_code=204)


# --- the customer's view ----------------------------------------------------------------------


class MyRequestOut(BaseModel):
    number: str
    kind: str
    title: str
    status: str
    status_name: str
    history: list[HistoryOut]


class MyRequestsOut(BaseModel):
    requests: list[MyRequestOut]
    no_deadline: str


@router.get("/my/requests")
async def my_requests(customer: CustomerDep, svc: SvcDep) -> MyRequestsOut:
    """The requests linked to the customer's portal with their status history; no
    internal comments, no other portal's data."""
    async with svc.db.read() as session:
        found = await queries.portal_requests(session, customer.portal_id)
        history = await queries.request_history(session, [r.id for r in found])
    locale = customer.locale
    return MyRequestsOut(
        requests=[
            MyRequestOut(
                number=rules.request_label(r.number),
                kind=r.kind,
                title=r.title,
                status=r.status,
                status_name=texts.pick(texts.STATUS_NAMES[r.status], locale),
                history=[HistoryOut(**h) for h in actions.history_view(history.get(r.id, []))],
            )
            for r in found
        ],
        no_deadline=texts.pick(texts.NO_DEADLINE, locale),
    )
