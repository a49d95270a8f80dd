"""Appending to a conversation's timeline, and the group-commit writer of the hot path.

Every item gets ``seq = last_seq + 1`` of its conversation, taken while the
conversation row is locked (``FOR UPDATE`` on PostgreSQL; the single ``BEGIN
IMMEDIATE`` writer on SQLite) and written in the same transaction, so seqs are strictly
increasing with no gaps under any number of concurrent writers.

One ORM commit per chat message caps throughput near a thousand messages a second.
``TimelineWriter`` instead queues concurrent posts and writes each batch in one
transaction with Core ``executemany`` statements: the batch forms naturally while the
previous commit is in flight, so a quiet server adds no delay and a busy one amortises
each commit over many messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, insert, select, tuple_, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from supportdesk.attachments import rules as attachment_rules
from supportdesk.attachments.models import Attachment
from supportdesk.conversations import rules
from supportdesk.conversations.models import (
    AuthorType,
    Conversation,
    ItemKind,
    Participant,
    TimelineItem,
)
from supportdesk.core.auth import AgentPrincipal, CustomerPrincipal, Principal
from supportdesk.core.clock import utcnow
from supportdesk.core.errors import DomainError, conflict
from supportdesk.realtime.events import (
    AuthorPublic,
    ConversationFacts,
    ItemEvent,
    ItemPublic,
)
from supportdesk.services import Services

log = logging.getLogger(__name__)

ITEMS = cast(Table, TimelineItem.__table__)
CONVERSATIONS = cast(Table, Conversation.__table__)
ATTACHMENTS = cast(Table, Attachment.__table__)


def facts_of(conv: Any, participant_ids: Sequence[int]) -> ConversationFacts:
    """Routing and permission facts from a ``Conversation`` (or a row with its columns)."""
    return ConversationFacts(
        id=conv.id,
        portal_id=conv.portal_id,
        tier=conv.tier,
        state=conv.state,
        assigned_agent_id=conv.assigned_agent_id,
        participant_ids=sorted(participant_ids),
    )


def participants_query(conversation_ids: Sequence[int]) -> Select[int, int]:
    return select(Participant.conversation_id, Participant.agent_id).where(
        Participant.conversation_id.in_(conversation_ids)
    )


async def participants_of(
    session: AsyncSession, conversation_ids: Sequence[int]
) -> dict[int, list[int]]:
    rows = await session.execute(participants_query(conversation_ids))
    found: dict[int, list[int]] = defaultdict(list)
    for conversation_id, agent_id in rows:
        found[conversation_id].append(agent_id)
    return found


def author_of(
    principal: Principal | None, conv_tier: str
) -> tuple[str, int | None, str, str | None]:
    """(author_type, author_id, author_name, author_tier) of a principal writing now."""
    if isinstance(principal, CustomerPrincipal):
        return AuthorType.CUSTOMER.value, principal.user_id, principal.name, None
    if isinstance(principal, AgentPrincipal):
        tier = conv_tier if conv_tier in principal.tiers else None
        return AuthorType.AGENT.value, principal.agent_id, principal.name, tier
    return AuthorType.SYSTEM.value, None, "", None


def item_public(row: Any) -> ItemPublic:
    """An ``ItemPublic`` from a ``TimelineItem`` or a dict/row with the same columns."""
    get = row.get if isinstance(row, dict) else lambda key: getattr(row, key)
    return ItemPublic(
        conversation_id=get("conversation_id"),
        seq=get("seq"),
        kind=get("kind"),
        author=AuthorPublic(
            type=get("author_type"),
            id=get("author_id"),
            name=get("author_name") or "",
            tier=get("author_tier"),
        ),
        body=get("body"),
        data=get("data"),
        client_key=get("client_key"),
        created_at=get("created_at"),
    )


@dataclass
class Draft:
    """An item to append inside an action's own transaction."""

    kind: ItemKind
    author: Principal | None
    body: str = ""
    data: dict[str, Any] | None = None
    client_key: str | None = None


async def append_items(
    session: AsyncSession, conv: Conversation, drafts: Sequence[Draft], now: datetime | None = None
) -> list[ItemPublic]:
    """Append items to a conversation that the caller has loaded *with a row lock*."""
    now = now or utcnow()
    rows = []
    for draft in drafts:
        conv.last_seq += 1
        author_type, author_id, author_name, author_tier = author_of(draft.author, conv.tier)
        rows.append(
            {
                "conversation_id": conv.id,
                "seq": conv.last_seq,
                "kind": draft.kind.value,
                "author_type": author_type,
                "author_id": author_id,
                "author_name": author_name,
                "author_tier": author_tier,
                "body": draft.body,
                "data": draft.data,
                "client_key": draft.client_key,
                "created_at": now,
            }
        )
    if rows:
        await session.execute(insert(ITEMS), rows)
        conv.updated_at = now
    return [item_public(row) for row in rows]


def secret_removed(kinds: Sequence[str]) -> dict[str, Any]:
    """The data of the SYSTEM item that follows a customer message whose secrets were
    redacted: the widget tells the customer, in their language, what was removed."""
    return {"event": "secret_removed", "kinds": list(kinds)}


def item_events(facts: ConversationFacts, items: Sequence[ItemPublic]) -> list[ItemEvent]:
    return [ItemEvent(facts=facts, internal=item.kind == "note", item=item) for item in items]


# --- the group-commit writer ---------------------------------------------------------


@dataclass
class PostRequest:
    principal: Principal
    conversation_id: int
    body: str
    client_key: str
    internal: bool
    future: asyncio.Future[ItemPublic] = field(repr=False)
    # Kinds of secret redacted from ``body``: a ``secret_removed`` item follows it.
    secret_kinds: tuple[str, ...] = ()
    # Attachments the message carries (uploaded by the same author in this conversation).
    attachment_ids: tuple[int, ...] = ()

    @property
    def kind(self) -> str:
        return ItemKind.NOTE.value if self.internal else ItemKind.MESSAGE.value


class TimelineWriter:
    """Batches concurrent message posts into one transaction per batch."""

    def __init__(self, svc: Services, max_batch: int = 500) -> None:
        self.svc = svc
        self.max_batch = max_batch
        self._queue: asyncio.Queue[PostRequest] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="timeline-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def post(
        self,
        principal: Principal,
        conversation_id: int,
        body: str,
        client_key: str,
        internal: bool,
        secret_kinds: tuple[str, ...] = (),
        attachment_ids: tuple[int, ...] = (),
    ) -> ItemPublic:
        """Append a message (or note); a retried ``client_key`` returns the original item
        (and adds no second ``secret_removed`` item). With attachments the body may be
        empty; they are linked to the item in the same transaction."""
        if body.strip() or not attachment_ids:
            rules.check_body(body, self.svc.settings.message_max_chars)
        rules.check_client_key(client_key)
        future: asyncio.Future[ItemPublic] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(
            PostRequest(
                principal,
                conversation_id,
                body,
                client_key,
                internal,
                future,
                secret_kinds,
                attachment_ids,
            )
        )
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            except DBAPIError:
                # One bad request (say, a client key raced by another process) must not
                # fail its neighbours: retry them one at a time.
                for request in batch:
                    try:
                        await self._write([request])
                    except Exception as exc:  # reported to that request's caller
                        _fail(request, exc)
            except Exception as exc:
                log.exception("timeline batch failed")
                for request in batch:
                    _fail(request, exc)

    async def _write(self, batch: list[PostRequest]) -> None:
        outcome = await self.svc.db.run_batch(
            lambda session: _write_batch(session, batch, utcnow())
        )
        published = [item_public(row) for row in outcome.new_rows]
        for index, request in enumerate(batch):
            if request.future.done():
                continue
            if index in outcome.links:
                request.future.set_result(published[outcome.links[index]])
                continue
            result = outcome.results[index]
            if isinstance(result, DomainError):
                request.future.set_exception(result)
            else:
                request.future.set_result(result)
        await self.svc.bus.publish(
            [
                ItemEvent(
                    facts=outcome.facts[item.conversation_id],
                    internal=item.kind == "note",
                    item=item,
                )
                for item in published
            ]
        )


@dataclass
class _BatchOutcome:
    new_rows: list[dict[str, Any]] = field(default_factory=list)
    results: dict[int, ItemPublic | DomainError] = field(default_factory=dict)
    links: dict[int, int] = field(default_factory=dict)  # request index -> new_rows index
    facts: dict[int, ConversationFacts] = field(default_factory=dict)


def _write_batch(session: Session, batch: list[PostRequest], now: datetime) -> _BatchOutcome:
    """One transaction for a whole batch (runs synchronously; see ``Database.run_batch``)."""
    out = _BatchOutcome()
    convs = {
        row.id: row
        for row in session.execute(
            select(
                Conversation.id,
                Conversation.portal_id,
                Conversation.tier,
                Conversation.state,
                Conversation.assigned_agent_id,
                Conversation.last_seq,
                Conversation.first_response_at,
            )
            .where(Conversation.id.in_(sorted({r.conversation_id for r in batch})))
            .order_by(Conversation.id)  # a fixed lock order: no deadlocks
            .with_for_update()
        )
    }
    participants: dict[int, list[int]] = defaultdict(list)
    for conversation_id, agent_id in session.execute(participants_query(list(convs))):
        participants[conversation_id].append(agent_id)
    existing = _existing_items(
        session, {(r.conversation_id, *author_of(r.principal, "")[:2], r.client_key) for r in batch}
    )
    last_seq = {cid: row.last_seq for cid, row in convs.items()}
    first_response: dict[int, datetime] = {}
    attachments = _attachments_of(session, batch)
    claimed: set[int] = set()  # attachments linked by an earlier request of this batch
    links: list[dict[str, Any]] = []
    out.facts = {cid: facts_of(row, participants.get(cid, [])) for cid, row in convs.items()}
    pending: dict[tuple[Any, ...], int] = {}  # identity key -> index in new_rows
    for index, request in enumerate(batch):
        conv = convs.get(request.conversation_id)
        try:
            if conv is None:
                raise DomainError("not_found", 404)
            rules.check_post(request.principal, out.facts[conv.id], request.internal)
        except DomainError as error:
            out.results[index] = error
            continue
        author_type, author_id, author_name, author_tier = author_of(request.principal, conv.tier)
        key = (conv.id, author_type, author_id, request.client_key)
        if key in existing:
            out.results[index] = _same_or_reused(existing[key], request)
            continue
        if key in pending:  # the same post twice in one batch: one item
            first = out.new_rows[pending[key]]
            if (
                first["body"] == request.body
                and first["kind"] == request.kind
                and _attachment_ids(first["data"]) == request.attachment_ids
            ):
                out.links[index] = pending[key]
            else:
                out.results[index] = conflict("client_key_reused")
            continue
        try:
            carried = _claim_attachments(request, attachments, claimed, (author_type, author_id))
        except DomainError as error:
            out.results[index] = error
            continue
        last_seq[conv.id] += 1
        links += [
            {"b_id": att.id, "b_seq": last_seq[conv.id], "b_internal": request.internal}
            for att in carried
        ]
        pending[key] = out.links[index] = len(out.new_rows)
        out.new_rows.append(
            {
                "conversation_id": conv.id,
                "seq": last_seq[conv.id],
                "kind": request.kind,
                "author_type": author_type,
                "author_id": author_id,
                "author_name": author_name,
                "author_tier": author_tier,
                "body": request.body,
                "data": _attachments_data(carried),
                "client_key": request.client_key,
                "created_at": now,
            }
        )
        if request.secret_kinds:
            last_seq[conv.id] += 1
            out.new_rows.append(
                {
                    "conversation_id": conv.id,
                    "seq": last_seq[conv.id],
                    "kind": ItemKind.SYSTEM.value,
                    "author_type": AuthorType.SYSTEM.value,
                    "author_id": None,
                    "author_name": "",
                    "author_tier": None,
                    "body": "",
                    "data": secret_removed(request.secret_kinds),
                    "client_key": None,
                    "created_at": now,
                }
            )
        if (
            author_type == AuthorType.AGENT.value
            and not request.internal
            and conv.first_response_at is None
        ):
            first_response.setdefault(conv.id, now)
    if out.new_rows:
        session.execute(insert(ITEMS), out.new_rows)
        changed = sorted({row["conversation_id"] for row in out.new_rows})
        session.execute(
            update(CONVERSATIONS)
            .where(CONVERSATIONS.c.id == bindparam("b_id"))
            .values(last_seq=bindparam("b_seq"), updated_at=bindparam("b_now")),
            [{"b_id": cid, "b_seq": last_seq[cid], "b_now": now} for cid in changed],
        )
        if first_response:
            session.execute(
                update(CONVERSATIONS)
                .where(CONVERSATIONS.c.id == bindparam("b_id"))
                .values(first_response_at=bindparam("b_at")),
                [{"b_id": cid, "b_at": at} for cid, at in first_response.items()],
            )
        if links:
            session.execute(
                update(ATTACHMENTS)
                .where(ATTACHMENTS.c.id == bindparam("b_id"))
                .values(
                    message_seq=bindparam("b_seq"),
                    internal=bindparam("b_internal"),
                    linked_at=bindparam("b_now"),
                ),
                [{**link, "b_now": now} for link in links],
            )
    return out


def _attachments_of(session: Session, batch: list[PostRequest]) -> dict[int, Attachment]:
    """The batch's attachments, locked (after the conversations, always in that order)
    so two processes cannot link one attachment to two messages."""
    wanted = sorted({aid for request in batch for aid in request.attachment_ids})
    if not wanted:
        return {}
    rows = session.scalars(
        select(Attachment)
        .where(Attachment.id.in_(wanted))
        .order_by(Attachment.id)
        .with_for_update()
    )
    return {att.id: att for att in rows}


def _claim_attachments(
    request: PostRequest,
    attachments: dict[int, Attachment],
    claimed: set[int],
    author: tuple[str, int | None],
) -> list[Attachment]:
    """The attachments this request may link, in its order (all or none); they join
    ``claimed``, so a later message of the same batch cannot take them too."""
    carried: list[Attachment] = []
    for attachment_id in request.attachment_ids:
        att = attachments.get(attachment_id)
        facts = None
        if att is not None:
            facts = attachment_rules.AttachmentFacts(
                id=att.id,
                conversation_id=att.conversation_id,
                uploader_type=att.uploader_type,
                uploader_id=att.uploader_id,
                message_seq=-1 if att.id in claimed else att.message_seq,
                internal=att.internal,
            )
        attachment_rules.check_linkable(facts, attachment_id, request.conversation_id, author)
        assert att is not None
        carried.append(att)
    claimed.update(att.id for att in carried)
    return carried


def _attachments_data(carried: Sequence[Attachment]) -> dict[str, Any] | None:
    if not carried:
        return None
    return {
        "attachments": [
            attachment_rules.attachment_public(att).model_dump(mode="json") for att in carried
        ]
    }


def _attachment_ids(data: dict[str, Any] | None) -> tuple[int, ...]:
    return tuple(att["id"] for att in (data or {}).get("attachments", []))


def _existing_items(session: Session, keys: set[tuple[Any, ...]]) -> dict[tuple[Any, ...], Any]:
    """Items already stored under these (conversation, author type, author, client_key)
    identities, looked up through the unique index."""
    if not keys:
        return {}
    identity = tuple_(
        TimelineItem.conversation_id,
        TimelineItem.author_type,
        TimelineItem.author_id,
        TimelineItem.client_key,
    )
    rows = session.scalars(select(TimelineItem).where(identity.in_(list(keys))))
    return {(i.conversation_id, i.author_type, i.author_id, i.client_key): i for i in rows}


def _same_or_reused(item: TimelineItem, request: PostRequest) -> ItemPublic | DomainError:
    if (
        item.body == request.body
        and item.kind == request.kind
        and _attachment_ids(item.data) == request.attachment_ids
    ):
        return item_public(item)
    return conflict("client_key_reused")


def _fail(request: PostRequest, exc: BaseException) -> None:
    if not request.future.done():
        request.future.set_exception(exc)
