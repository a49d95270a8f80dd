"""The access log: append-only and hash-chained, one chain per portal.

Each entry's ``hash = sha256(prev_hash + canonical JSON of the entry)``, where the
canonical JSON covers every stored field but the hashes (sorted keys, no spaces, UTF-8,
times as ISO 8601 UTC with microseconds). The first entry of a portal chains from 64
zeros. ``access_log_heads`` holds each chain's last seq and hash: appending locks that
row, so concurrent appends line up, and comparing it with the last entry reveals a
removed tail. Triggers (migration 0003) refuse UPDATE and DELETE on the entries, so
changing history takes deliberate work at the database, which ``verify_chain`` reveals.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.account_access.models import AccessLogEntry, AccessLogHead
from supportdesk.core.auth import AgentPrincipal, CustomerPrincipal, Principal
from supportdesk.core.clock import as_utc

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class LogActor:
    type: str  # agent | customer | host | system
    id: int | None = None
    name: str = ""


HOST = LogActor("host", None, "host product")
SYSTEM = LogActor("system", None, "")


def actor_of(principal: Principal | None) -> LogActor:
    if isinstance(principal, AgentPrincipal):
        return LogActor("agent", principal.agent_id, principal.name)
    if isinstance(principal, CustomerPrincipal):
        return LogActor("customer", principal.user_id, principal.name)
    return SYSTEM


def canonical(entry: Any) -> bytes:
    """The hashed form of an entry (an ``AccessLogEntry`` or anything with its fields)."""
    body = {
        "portal_id": entry.portal_id,
        "seq": entry.seq,
        "at": as_utc(entry.at).isoformat(timespec="microseconds"),
        "action": entry.action,
        "actor": {"type": entry.actor_type, "id": entry.actor_id, "name": entry.actor_name},
        "grant_id": entry.grant_id,
        "conversation_id": entry.conversation_id,
        "data": entry.data,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(prev_hash: str, entry: Any) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(entry)).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainCheck:
    intact: bool
    broken_at_seq: int | None = None  # the first entry that does not fit, if any


def verify_chain(entries: Iterable[Any], head: Any | None) -> ChainCheck:
    """Walk one portal's entries in seq order. An edited entry no longer matches its
    hash; a deleted one leaves a gap in seq and a successor whose ``prev_hash`` points
    at nothing; a removed tail leaves the head pointing past the last entry."""
    prev_hash, expected_seq = GENESIS, 1
    for entry in entries:
        if (
            entry.seq != expected_seq
            or entry.prev_hash != prev_hash
            or entry.hash != entry_hash(prev_hash, entry)
        ):
            return ChainCheck(False, expected_seq)
        prev_hash, expected_seq = entry.hash, expected_seq + 1
    last_seq = expected_seq - 1
    head_seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
    if (head_seq, head_hash) != (last_seq, prev_hash):
        return ChainCheck(False, last_seq + 1)
    return ChainCheck(True)


async def append(
    session: AsyncSession,
    *,
    portal_id: int,
    action: str,
    actor: LogActor,
    at: datetime,
    grant_id: int | None = None,
    conversation_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AccessLogEntry:
    """Add an entry in the caller's transaction, so it commits (or not) with the change
    it records."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    await session.execute(
        insert(AccessLogHead)
        .values(portal_id=portal_id, seq=0, hash=GENESIS)
        .on_conflict_do_nothing(index_elements=["portal_id"])
    )
    head = await session.scalar(
        select(AccessLogHead)
        .where(AccessLogHead.portal_id == portal_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert head is not None
    entry = AccessLogEntry(
        portal_id=portal_id,
        seq=head.seq + 1,
        at=at,
        action=action,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_name=actor.name,
        grant_id=grant_id,
        conversation_id=conversation_id,
        data=data or {},
        prev_hash=head.hash,
    )
    entry.hash = entry_hash(head.hash, entry)
    session.add(entry)
    head.seq, head.hash = entry.seq, entry.hash
    await session.flush()
    return entry


async def check_portal_chain(session: AsyncSession, portal_id: int) -> ChainCheck:
    entries = await session.scalars(
        select(AccessLogEntry)
        .where(AccessLogEntry.portal_id == portal_id)
        .order_by(AccessLogEntry.seq, AccessLogEntry.id)
    )
    head = await session.get(AccessLogHead, portal_id)
    return verify_chain(entries, head)
