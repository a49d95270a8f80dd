from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from supportdesk.conversations import actions, queries, rules
from supportdesk.conversations.queries import ConversationFilter
from supportdesk.deps import AgentDep, CustomerDep, PrincipalDep, SupervisorDep, SvcDep
from supportdesk.knowledge import actions as kb_actions
from supportdesk.knowledge import rules as kb_rules
from supportdesk.realtime.events import AgentRef, ConversationPublic, ItemPublic

router = APIRouter(prefix="/api/v1", tags=["conversations"])

# Lengths are checked by the rules, with their own error codes; this cap only stops
# absurd bodies before they are parsed further.
HARD_CAP = 1_000_000


class ConversationCreate(BaseModel):
    body: str = Field(max_length=HARD_CAP)
    client_key: str = Field(max_length=HARD_CAP)
    # The help articles the widget suggested before the customer asked anyway (kept for
    # the agent: GET /api/v1/conversations/{id}/suggestions).
    suggested_article_ids: list[int] = Field(default_factory=list, max_length=1000)


class Opened(BaseModel):
    conversation: ConversationPublic
    item: ItemPublic


@router.post("/conversations", status_code=201)
async def open_conversation(
    body: ConversationCreate, customer: CustomerDep, svc: SvcDep, response: Response
) -> Opened:
    """Open a chat with its first message. Always starts at tier 1 (customer support)."""
    suggested = kb_rules.check_suggestions(body.suggested_article_ids)
    opened = await actions.do_open_conversation(svc, customer, body.body, body.client_key)
    if opened.created and suggested:
        await kb_actions.do_keep_suggestions(svc, customer, opened.conversation.id, suggested)
    if not opened.created:
        response.status_code = 200
    return Opened(conversation=opened.conversation, item=opened.first_item)


@router.get("/conversations")
async def list_conversations(
    principal: PrincipalDep,
    svc: SvcDep,
    scope: Literal["all", "mine", "queue", "handled"] = "all",
    tier: str | None = None,
    state: Literal["waiting", "assigned", "resolved", "closed"] | None = None,
    limit: int = Query(default=50, ge=1, le=200),
) -> list[ConversationPublic]:
    filters = ConversationFilter(
        scope=scope, tier=rules.parse_tier(tier) if tier else None, state=state
    )
    async with svc.db.read() as session:
        return await queries.list_conversations(session, principal, filters, limit)


@router.get("/conversations/search")
async def search_conversations(
    agent: AgentDep,
    svc: SvcDep,
    q: str = Query(default="", max_length=200),
    limit: int = Query(default=20, ge=1, le=100),
) -> list[ConversationPublic]:
    """``#12`` or ``12`` by number, else text in the portal id, customer, subject or any
    timeline item; only conversations the agent may see, newest first. (Declared before
    ``/conversations/{conversation_id}``, which would otherwise take ``search``.)"""
    async with svc.db.read() as session:
        return await queries.search_conversations(session, agent, q, limit)


@router.get("/conversations/{conversation_id}")
async def get_conversation(
    conversation_id: int, principal: PrincipalDep, svc: SvcDep
) -> ConversationPublic:
    async with svc.db.read() as session:
        conv, _ = await queries.access_conversation_by_id(session, principal, conversation_id)
        return await queries.conversation_view(session, conv)


@router.get("/conversations/{conversation_id}/items")
async def list_items(
    conversation_id: int,
    principal: PrincipalDep,
    svc: SvcDep,
    after: int = Query(default=0, ge=0),
    limit: int = Query(default=queries.PAGE, ge=1, le=1000),
) -> list[ItemPublic]:
    """Items with ``seq > after``, in order: how a client catches up."""
    async with svc.db.read() as session:
        return await queries.list_items(session, principal, conversation_id, after, limit)


class MessageCreate(BaseModel):
    body: str = Field(max_length=HARD_CAP)  # may be "" when attachments are sent
    client_key: str = Field(max_length=HARD_CAP)
    internal: bool = False
    # Uploaded attachments to carry (at most SUPPORTDESK_MAX_ATTACHMENTS_PER_MESSAGE,
    # checked with its own error code; this cap only stops absurd lists).
    attachment_ids: list[int] = Field(default_factory=list, max_length=1000)


@router.post("/conversations/{conversation_id}/messages", status_code=201)
async def post_message(
    conversation_id: int, body: MessageCreate, principal: PrincipalDep, svc: SvcDep
) -> ItemPublic:
    return await actions.do_post_message(
        svc,
        principal,
        conversation_id,
        body.body,
        body.client_key,
        body.internal,
        body.attachment_ids,
    )


class ReadIn(BaseModel):
    seq: int = Field(ge=0)


class ReadOut(BaseModel):
    conversation_id: int
    last_read_seq: int


@router.post("/conversations/{conversation_id}/read")
async def mark_read(
    conversation_id: int, body: ReadIn, principal: PrincipalDep, svc: SvcDep
) -> ReadOut:
    """The agent (or the customer, from the widget) has read up to ``seq``: the marker
    never moves back, and a seq past the last item is clamped to it. The customer's
    marker decides whether a product notice is also e-mailed."""
    seq = await actions.do_mark_read(svc, principal, conversation_id, body.seq)
    return ReadOut(conversation_id=conversation_id, last_read_seq=seq)


@router.get("/staff/me/unread")
async def unread(agent: AgentDep, svc: SvcDep) -> dict[str, int]:
    """``{conversation_id: unread items}`` for each chat assigned to the agent (zero
    included): items after their read marker written by anyone else."""
    async with svc.db.read() as session:
        counts = await queries.unread_counts(session, agent)
    return {str(conversation_id): count for conversation_id, count in counts.items()}


class TransferIn(BaseModel):
    to_tier: str = Field(max_length=100)
    note: str = Field(default="", max_length=HARD_CAP)
    preferred_agent_id: int | None = None


@router.post("/conversations/{conversation_id}/transfer")
async def transfer(
    conversation_id: int, body: TransferIn, agent: AgentDep, svc: SvcDep
) -> ConversationPublic:
    to_tier = rules.parse_tier(body.to_tier)
    return await actions.do_transfer(
        svc, agent, conversation_id, to_tier, body.note, body.preferred_agent_id
    )


@router.post("/conversations/{conversation_id}/resolve")
async def resolve(conversation_id: int, agent: AgentDep, svc: SvcDep) -> ConversationPublic:
    return await actions.do_resolve(svc, agent, conversation_id)


class AssignIn(BaseModel):
    agent_id: int


@router.post("/conversations/{conversation_id}/assign")
async def reassign(
    conversation_id: int, body: AssignIn, supervisor: SupervisorDep, svc: SvcDep
) -> ConversationPublic:
    return await actions.do_reassign(svc, supervisor, conversation_id, body.agent_id)


class RatingIn(BaseModel):
    score: int
    comment: str = Field(default="", max_length=HARD_CAP)


class RatingOut(BaseModel):
    conversation_id: int
    score: int
    comment: str


@router.post("/conversations/{conversation_id}/rating", status_code=201)
async def rate(
    conversation_id: int, body: RatingIn, customer: CustomerDep, svc: SvcDep, response: Response
) -> RatingOut:
    rated = await actions.do_rate(svc, customer, conversation_id, body.score, body.comment)
    if not rated.created:
        response.status_code = 200
    return RatingOut(conversation_id=conversation_id, score=rated.score, comment=rated.comment)


class HistoryEntryOut(BaseModel):
    id: int
    subject: str
    state: str
    tier: str
    created_at: datetime
    handled_by: list[AgentRef]


@router.get("/conversations/{conversation_id}/portal-history")
async def portal_history(
    conversation_id: int, agent: AgentDep, svc: SvcDep
) -> list[HistoryEntryOut]:
    """The portal's other conversations, newest first, and who handled them, so tier 1
    sees which specialists already know the customer."""
    async with svc.db.read() as session:
        entries = await queries.portal_history(session, agent, conversation_id)
    return [HistoryEntryOut(**entry.__dict__) for entry in entries]


class QueueOut(BaseModel):
    """The ``queue`` event's summary plus the waiting conversations, FIFO."""

    model_config = ConfigDict(from_attributes=True)

    tier: str
    waiting: int
    oldest_waiting_since: datetime | None
    conversations: list[ConversationPublic]


@router.get("/queues")
async def queues(agent: AgentDep, svc: SvcDep) -> list[QueueOut]:
    """The queue of each tier the agent works (supervisors: both), for the console."""
    async with svc.db.read() as session:
        views = await queries.queues_of(session, agent)
    return [QueueOut.model_validate(view) for view in views]


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_ja: str
    name_en: str
    commercial: bool


class PortalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    external_id: str
    plan: PlanOut


class CustomerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    external_id: str
    name: str
    email: str
    role: str
    locale: str


class CustomerPanelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    conversation_id: int
    portal: PortalOut
    user: CustomerOut


@router.get("/conversations/{conversation_id}/customer")
async def customer_panel(conversation_id: int, agent: AgentDep, svc: SvcDep) -> CustomerPanelOut:
    """The console's customer panel: the portal, its plan and the user who asked."""
    async with svc.db.read() as session:
        panel = await queries.customer_panel(session, agent, conversation_id)
    return CustomerPanelOut.model_validate(panel)


class CsatRowOut(BaseModel):
    agent_id: int
    agent_name: str
    tier: str
    count: int
    average: float


class CsatOut(BaseModel):
    count: int
    average: float | None
    distribution: dict[int, int]
    by_agent: list[CsatRowOut]


@router.get("/reports/csat")
async def csat(
    _: SupervisorDep,
    svc: SvcDep,
    start: datetime | None = Query(default=None, alias="from"),
    end: datetime | None = Query(default=None, alias="to"),
    tier: str | None = None,
    agent: int | None = None,
) -> CsatOut:
    """Average, count and distribution of ratings; per agent and tier as well."""
    async with svc.db.read() as session:
        report = await queries.csat_report(
            session,
            start=start,
            end=end,
            tier=rules.parse_tier(tier) if tier else None,
            agent_id=agent,
        )
    return CsatOut(
        count=report.count,
        average=report.average,
        distribution=report.distribution,
        by_agent=[CsatRowOut(**row.__dict__) for row in report.by_agent],
    )
