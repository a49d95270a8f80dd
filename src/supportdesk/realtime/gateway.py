"""The WebSocket gateway: ``GET /api/v1/stream``.

The hub receives committed events from the bus and routes each one to the sockets
whose principal may see it, using the event's own ``ConversationFacts`` and the same
rules as the HTTP API, so routing needs no database query.

Every socket keeps, per conversation, the last ``seq`` it was sent. An item at or
below it is a duplicate and is dropped; an item beyond ``last + 1`` reveals a gap
(events from two committers can arrive out of order), which is filled from the
database before anything newer is sent (a conversation new to the socket counts from
0, so its history arrives first). A client that reconnects sends its own last
seqs in a ``resume`` frame and receives exactly what it missed, in order.

Client frames: ``resume``, ``message.send``, ``typing``, ``ping``.
Server frames: ``hello``, ``item``, ``conversation``, ``queue``, ``typing``,
``presence``, ``ack``, ``error``, ``pong``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import defaultdict, deque
from collections.abc import Sequence
from typing import Annotated, Any, Literal

import orjson
from fastapi import WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from supportdesk.conversations import actions, queries, rules
from supportdesk.core.auth import AgentPrincipal, CustomerPrincipal, Principal
from supportdesk.core.errors import DomainError
from supportdesk.deps import SESSION_COOKIE, resolve_principal
from supportdesk.realtime.events import (
    AuthorPublic,
    ConversationEvent,
    ConversationFacts,
    ItemEvent,
    PresenceEvent,
    QueueEvent,
    TypingEvent,
)
from supportdesk.safety.echo import validation_message
from supportdesk.services import Services

log = logging.getLogger(__name__)

CLOSE_BAD_TOKEN = 4401
CLOSE_TOO_SLOW = 4408
CLOSE_TRY_AGAIN = 1013
SEND_QUEUE_LIMIT = 5_000
FACTS_TTL_SECONDS = 30.0


def author_key(principal: Principal) -> tuple[str, int]:
    if isinstance(principal, CustomerPrincipal):
        return "customer", principal.user_id
    return "agent", principal.agent_id


class FrameQueue:
    """The outgoing frames of one socket: one producer side, one consumer (``pump``).

    An ``asyncio.Queue`` keeps three deques and an ``Event`` (about 3 KiB per socket, most
    of what an idle connection costs the app); this keeps one deque and creates a future
    only while the pump waits.
    """

    __slots__ = ("_frames", "_waiter")

    def __init__(self) -> None:
        self._frames: deque[str | None] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def qsize(self) -> int:
        return len(self._frames)

    def put_nowait(self, frame: str | None) -> None:
        self._frames.append(frame)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> str | None:
        while not self._frames:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._frames.popleft()


class Connection:
    """One open socket: its principal, outgoing queue and per-conversation cursors."""

    def __init__(self, hub: Hub, websocket: WebSocket, principal: Principal) -> None:
        self.hub = hub
        self.websocket = websocket
        self.principal = principal
        self.outbox = FrameQueue()
        self.cursors: dict[int, int] = {}
        self.syncing: dict[int, list[tuple[int, str]]] = {}
        self.facts_cache: dict[int, tuple[float, ConversationFacts]] = {}
        self.closed = False
        self.watching: set[int] = set()
        # (author type, author id, client_key) of posts from this socket awaiting their ack.
        self.posting: set[tuple[Any, ...]] = set()
        self.close_code: int | None = None

    # --- outgoing ------------------------------------------------------------------

    def send(self, frame: str) -> None:
        if self.closed:
            return
        if self.outbox.qsize() >= SEND_QUEUE_LIMIT:
            self.close(CLOSE_TOO_SLOW)  # a client this far behind resumes instead
            return
        self.outbox.put_nowait(frame)

    def close(self, code: int) -> None:
        if not self.closed:
            self.closed = True
            self.close_code = code
            self.outbox.put_nowait(None)

    def send_json(self, payload: dict[str, Any]) -> None:
        self.send(orjson.dumps(payload).decode())

    def deliver_item(
        self, conversation_id: int, seq: int, frame: str, origin: tuple[Any, ...] | None = None
    ) -> None:
        if conversation_id in self.syncing:
            self.syncing[conversation_id].append((seq, frame))
            return
        # A conversation this socket has not seen yet counts from 0, so an agent who is
        # assigned mid-conversation receives its history before the new item.
        last = self.cursors.get(conversation_id, 0)
        if seq <= last:
            return
        if seq > last + 1:
            self.syncing[conversation_id] = [(seq, frame)]
            self.hub.spawn(self.catch_up(conversation_id, last, seq))
            return
        self.cursors[conversation_id] = seq
        if origin is not None and origin in self.posting:
            return  # this socket posted it: its ``ack`` carries the item
        self.send(frame)

    async def catch_up(self, conversation_id: int, after: int, until: int = 0) -> None:
        """Send every item after ``after`` from the database, then what arrived meanwhile."""
        self.syncing.setdefault(conversation_id, [])
        last = after
        try:
            while True:
                # Access was checked already: by routing (can_view on the event's facts)
                # or by the resume frame.
                items = await self.hub.svc.db.run_read(
                    functools.partial(
                        queries.items_after_sync,
                        principal=self.principal,
                        conversation_id=conversation_id,
                        after=last,
                    )
                )
                for item in items:
                    self.send_json(
                        {
                            "type": "item",
                            "conversation_id": conversation_id,
                            "item": item.as_json(),
                        }
                    )
                    last = item.seq
                if len(items) < queries.PAGE:
                    break
        except DomainError as error:
            # The socket may not see this conversation (any more): nothing to deliver.
            self.syncing.pop(conversation_id, None)
            self.send_error(error)
            return
        except Exception:
            # Say the database went away: close, and the client resumes from its cursor.
            log.exception("catch-up of conversation %s failed", conversation_id)
            self.syncing.pop(conversation_id, None)
            self.close(CLOSE_TRY_AGAIN)
            return
        # A complete catch-up read everything visible so far, which accounts for every
        # seq up to ``until`` (customers never receive the seqs of notes).
        if until:
            last = max(last, until - 1)
        pending = sorted(self.syncing.pop(conversation_id, []))
        self.cursors[conversation_id] = max(last, self.cursors.get(conversation_id, 0))
        for seq, frame in pending:
            self.deliver_item(conversation_id, seq, frame)

    def send_error(self, error: DomainError, **extra: Any) -> None:
        body = error.body(self.principal.locale)["error"]
        self.send_json({"type": "error", **body, **extra})

    async def pump(self) -> None:
        while True:
            frame = await self.outbox.get()
            if frame is None:
                if self.close_code is not None:
                    with contextlib.suppress(Exception):
                        await self.websocket.close(self.close_code)
                return
            await self.websocket.send_text(frame)

    # --- incoming ------------------------------------------------------------------

    async def facts_for(self, conversation_id: int) -> ConversationFacts:
        cached = self.facts_cache.get(conversation_id)
        now = time.monotonic()
        if cached and now - cached[0] < FACTS_TTL_SECONDS:
            return cached[1]
        async with self.hub.svc.db.read() as session:
            _, facts = await queries.access_conversation_by_id(
                session, self.principal, conversation_id
            )
        self.facts_cache[conversation_id] = (now, facts)
        return facts

    async def handle(self, raw: str) -> None:
        try:
            frame = CLIENT_FRAME.validate_json(raw)
        except ValidationError as exc:
            errors = exc.errors()
            detail = validation_message(errors[0]) if errors else "invalid"
            self.send_error(DomainError("invalid_frame", 400, params={"detail": detail}))
            return
        try:
            await frame.run(self)
        except DomainError as error:
            self.send_error(error, client_key=getattr(frame, "client_key", None))
        except (SQLAlchemyError, OSError) as exc:
            # The database is away (a restart): the socket stays open and the client
            # retries the frame with the same client_key, as a 503 tells HTTP clients.
            log.warning("frame %s failed, database unavailable: %s", frame.type, type(exc).__name__)
            self.send_error(
                DomainError("service_unavailable", 503),
                client_key=getattr(frame, "client_key", None),
            )


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResumeFrame(_Frame):
    type: Literal["resume"]
    cursors: dict[int, int] = Field(default_factory=dict, max_length=1000)

    async def run(self, conn: Connection) -> None:
        for conversation_id, last_seq in self.cursors.items():
            await conn.facts_for(conversation_id)  # 404 unless the principal may see it
            # Watch first: anything committed during the catch-up is buffered, not missed.
            conn.hub.watch(conn, conversation_id)
            await conn.catch_up(conversation_id, max(0, last_seq))


class SendFrame(_Frame):
    type: Literal["message.send"]
    conversation_id: int
    body: str = Field(max_length=1_000_000)  # may be "" when attachments are sent
    client_key: str = Field(max_length=1_000)
    internal: bool = False
    attachment_ids: list[int] = Field(default_factory=list, max_length=1_000)

    async def run(self, conn: Connection) -> None:
        origin = (*author_key(conn.principal), self.client_key)
        conn.posting.add(origin)
        try:
            item = await actions.do_post_message(
                conn.hub.svc,
                conn.principal,
                self.conversation_id,
                self.body,
                self.client_key,
                self.internal,
                self.attachment_ids,
            )
        finally:
            conn.posting.discard(origin)
        conn.send_json({"type": "ack", "client_key": self.client_key, "item": item.as_json()})


class TypingFrame(_Frame):
    type: Literal["typing"]
    conversation_id: int
    internal: bool = False

    async def run(self, conn: Connection) -> None:
        facts = await conn.facts_for(self.conversation_id)
        who = (
            AuthorPublic(type="customer", id=conn.principal.user_id, name=conn.principal.name)
            if isinstance(conn.principal, CustomerPrincipal)
            else AuthorPublic(type="agent", id=conn.principal.agent_id, name=conn.principal.name)
        )
        internal = self.internal and isinstance(conn.principal, AgentPrincipal)
        await conn.hub.svc.bus.publish(
            [
                TypingEvent(
                    facts=facts, conversation_id=self.conversation_id, who=who, internal=internal
                )
            ]
        )


class PingFrame(_Frame):
    type: Literal["ping"]

    async def run(self, conn: Connection) -> None:
        conn.send_json({"type": "pong"})


class SubscribeFrame(_Frame):
    """``scope: "visible"`` asks for every item (notes included) of every conversation the
    agent may see, as a tier's shared inbox or a supervisor's wall needs; ``"mine"`` (the
    default) is the agent's own conversations and the ones it resumed."""

    type: Literal["subscribe"]
    scope: Literal["mine", "visible"]

    async def run(self, conn: Connection) -> None:
        if not isinstance(conn.principal, AgentPrincipal):
            raise DomainError("forbidden", 403)
        conn.hub.set_scope(conn, self.scope)
        conn.send_json({"type": "subscribed", "scope": self.scope})


ClientFrame = Annotated[
    ResumeFrame | SendFrame | TypingFrame | PingFrame | SubscribeFrame,
    Field(discriminator="type"),
]
CLIENT_FRAME: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


class Hub:
    """Routes bus events to this process's sockets and tracks staff presence."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.customers: dict[int, set[Connection]] = defaultdict(set)  # by portal id
        self.staff: set[Connection] = set()
        self.staff_by_agent: dict[int, set[Connection]] = defaultdict(set)
        # Staff sockets that asked for a conversation (resume) beyond their own chats.
        self.watchers: dict[int, set[Connection]] = defaultdict(set)
        # Staff sockets that asked for every conversation they may see.
        self.visible_scope: set[Connection] = set()
        self.staff_sockets: dict[int, int] = defaultdict(int)  # agent id -> open sockets
        self._offline_timers: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unsubscribe = svc.bus.subscribe(self.route)
        svc.bus.on_reconnect(self.resync)
        svc.bus.track_staff_sockets(self.staff_sockets)

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def socket_count(self) -> int:
        return len(self.staff) + sum(len(conns) for conns in self.customers.values())

    def add(self, conn: Connection) -> None:
        principal = conn.principal
        if isinstance(principal, CustomerPrincipal):
            self.customers[principal.portal_id].add(conn)
            return
        self.staff.add(conn)
        self.staff_by_agent[principal.agent_id].add(conn)
        self.staff_sockets[principal.agent_id] += 1
        self.svc.bus.staff_sockets_changed(principal.agent_id)
        timer = self._offline_timers.pop(principal.agent_id, None)
        if timer is not None:
            timer.cancel()

    def remove(self, conn: Connection) -> None:
        conn.closed = True
        principal = conn.principal
        if isinstance(principal, CustomerPrincipal):
            self.customers[principal.portal_id].discard(conn)
            if not self.customers[principal.portal_id]:
                del self.customers[principal.portal_id]
            return
        self.staff.discard(conn)
        self.visible_scope.discard(conn)
        self.staff_by_agent[principal.agent_id].discard(conn)
        if not self.staff_by_agent[principal.agent_id]:
            del self.staff_by_agent[principal.agent_id]
        for conversation_id in conn.watching:
            self.watchers[conversation_id].discard(conn)
            if not self.watchers[conversation_id]:
                del self.watchers[conversation_id]
        self.staff_sockets[principal.agent_id] -= 1
        remaining = self.staff_sockets[principal.agent_id]
        if remaining <= 0:
            del self.staff_sockets[principal.agent_id]
        self.svc.bus.staff_sockets_changed(principal.agent_id)
        if remaining <= 0:
            agent_id = principal.agent_id
            self._offline_timers[agent_id] = asyncio.get_running_loop().call_later(
                self.svc.settings.presence_grace_seconds, self._went_away, agent_id
            )

    def _went_away(self, agent_id: int) -> None:
        """All of an agent's sockets stayed closed for the grace period: offline."""
        from supportdesk.staff.actions import do_set_presence
        from supportdesk.staff.models import Presence

        self._offline_timers.pop(agent_id, None)
        if self.staff_sockets.get(agent_id):
            return

        async def offline_unless_connected_elsewhere() -> None:
            # Another app process may hold a socket of this agent: presence is the
            # agent's, not this process's.
            if await self.svc.bus.agent_connected_elsewhere(agent_id):
                return
            if self.staff_sockets.get(agent_id):
                return  # came back meanwhile
            await do_set_presence(self.svc, agent_id, Presence.OFFLINE, actor=None)

        self.spawn(offline_unless_connected_elsewhere())

    def route(self, events: Sequence[Any]) -> None:
        for event in events:
            frame: str | None = None
            for conn in self._audience(event):
                if frame is None:
                    frame = event.frame_bytes().decode()
                if isinstance(event, ItemEvent):
                    item = event.item
                    origin = (item.author.type, item.author.id, item.client_key)
                    conn.deliver_item(event.facts.id, item.seq, frame, origin)
                else:
                    conn.send(frame)

    def resync(self) -> None:
        """The bus subscribed again after an outage: events of other processes were
        missed meanwhile, so every socket re-reads each conversation it follows from
        its own cursor (the sockets stay open; duplicates are dropped by seq)."""
        for conn in [*self.staff, *(c for conns in self.customers.values() for c in conns)]:
            if conn.closed:
                continue
            for conversation_id in set(conn.cursors) | conn.watching:
                if conversation_id in conn.syncing:
                    continue  # a catch-up is running; it reads to the end
                # Buffer live items now, in the same step that reads the cursor, so the
                # catch-up and newer live items neither overlap nor leave a gap.
                conn.syncing[conversation_id] = []
                self.spawn(conn.catch_up(conversation_id, conn.cursors.get(conversation_id, 0)))

    def watch(self, conn: Connection, conversation_id: int) -> None:
        if isinstance(conn.principal, AgentPrincipal):
            conn.watching.add(conversation_id)
            self.watchers[conversation_id].add(conn)

    def set_scope(self, conn: Connection, scope: str) -> None:
        if scope == "visible":
            self.visible_scope.add(conn)
        else:
            self.visible_scope.discard(conn)

    def _staff_for(self, event: Any, facts: ConversationFacts) -> set[Connection]:
        """Items and typing go to the conversation's agents, to the sockets watching it and
        to sockets subscribed to everything they may see (``can_view`` filters all of
        them). By default an agent's socket is not sent every message of its tier, so
        fan-out stays O(people in the chat). State changes (``conversation`` events) go
        to all staff who may see them, so queues stay live."""
        if isinstance(event, ConversationEvent):
            return self.staff
        found: set[Connection] = set(self.watchers.get(facts.id, ()))
        found.update(self.visible_scope)
        for agent_id in (facts.assigned_agent_id, *facts.participant_ids):
            if agent_id is not None:
                found.update(self.staff_by_agent.get(agent_id, ()))
        return found

    def _audience(self, event: Any) -> list[Connection]:
        if isinstance(event, ItemEvent | ConversationEvent | TypingEvent):
            facts: ConversationFacts = event.facts
            internal = isinstance(event, ItemEvent | TypingEvent) and event.internal
            audience = [
                c for c in self._staff_for(event, facts) if rules.can_view(c.principal, facts)
            ]
            if not internal:
                audience += [
                    c
                    for c in self.customers.get(facts.portal_id, ())
                    if rules.can_view(c.principal, facts)
                ]
            return audience
        if isinstance(event, QueueEvent):
            return [
                c
                for c in self.staff
                if isinstance(c.principal, AgentPrincipal)
                and (c.principal.is_supervisor or event.tier in c.principal.tiers)
            ]
        if isinstance(event, PresenceEvent):
            return list(self.staff)
        return []

    async def close(self) -> None:
        self._unsubscribe()
        for timer in self._offline_timers.values():
            timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _authenticate(svc: Services, websocket: WebSocket) -> Principal | None:
    token = websocket.query_params.get("token")
    try:
        if token:
            return await resolve_principal(svc, token)
        cookie = websocket.cookies.get(SESSION_COOKIE)
        origin = websocket.headers.get("origin")
        host = websocket.headers.get("host")
        # Cookies ride along on cross-site sockets too: only our own pages may use them.
        if cookie and (origin is None or origin.split("://", 1)[-1] == host):
            return await resolve_principal(svc, cookie if cookie.startswith("sds_") else "")
    except DomainError:
        return None
    return None


async def stream(websocket: WebSocket) -> None:
    svc: Services = websocket.app.state.services
    await websocket.accept()
    principal = await _authenticate(svc, websocket)
    if principal is None:
        await websocket.close(CLOSE_BAD_TOKEN)
        return
    hub = svc.hub
    conn = Connection(hub, websocket, principal)
    hub.add(conn)
    pump = asyncio.create_task(conn.pump())
    hello: dict[str, Any] = {
        "type": "hello",
        "kind": "customer" if isinstance(principal, CustomerPrincipal) else "agent",
    }
    conn.send_json(hello)
    try:
        while not conn.closed:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            raw = message.get("text")
            if raw is None:
                raw_bytes = message.get("bytes") or b""
                raw = raw_bytes.decode("utf-8", "replace")
            await conn.handle(raw)
    except WebSocketDisconnect:
        pass
    finally:
        hub.remove(conn)
        conn.outbox.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(pump, timeout=5)
