"""The outbox: background work written in the same transaction as the change behind it.

An action calls ``enqueue(session, kind, payload)`` inside its own write transaction, so
the job exists exactly when the change does (a rolled-back change leaves no e-mail to
send). A runner then claims due jobs, runs the handler registered for their kind, and
marks them done, or schedules a retry with exponential backoff until the attempts are
used up (``failed``, with ``last_error`` kept for the operator).

Claiming is a lease, not a lock held while the handler runs: one short transaction sets
``leased_until`` and counts the attempt, the handler runs outside any transaction, and a
second short transaction records the outcome, guarded by the attempt number so a runner
whose lease ran out cannot overwrite the outcome of the one that took the job over. A
runner that dies mid-job leaves a lease that simply expires; the job is then due again.
On PostgreSQL the claim reads with ``FOR UPDATE SKIP LOCKED``, so any number of runners
(the in-process one here, ``supportdesk worker`` processes in ops/worker.py) share the table without
waiting on each other or taking the same job; on SQLite the single writer serialises
claims. Effects are therefore at-least-once: handlers must be idempotent (mail carries a
``Message-ID`` derived from the job, so a receiver can drop a repeat).

The in-process runner is a ``PeriodicTask``; a commit that enqueued work wakes it, so
jobs start right away rather than at the next poll.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Index, String, Text, event, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from supportdesk.core.clock import utcnow
from supportdesk.core.db import Base, Database, IdPK
from supportdesk.core.periodic import PeriodicTask

if TYPE_CHECKING:
    from supportdesk.services import Services

log = logging.getLogger(__name__)

KIND_LENGTH = 60
ERROR_LENGTH = 1000
MAX_BACKOFF_SECONDS = 3600.0
CLAIM_BATCH = 20

Handler = Callable[["Services", dict[str, Any]], Awaitable[None]]


class JobStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class OutboxJob(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "available_at"),)

    id: Mapped[IdPK]
    kind: Mapped[str] = mapped_column(String(KIND_LENGTH))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(default=0)
    available_at: Mapped[datetime]
    leased_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


# --- handlers --------------------------------------------------------------------------

_handlers: dict[str, Handler] = {}


def register(kind: str, handler: Handler) -> None:
    """Name the coroutine that performs jobs of ``kind`` (at import of the feature)."""
    _handlers[kind] = handler


def handler_for(kind: str) -> Handler | None:
    return _handlers.get(kind)


# --- enqueueing ------------------------------------------------------------------------

# The runners of this process, woken after a commit that enqueued work. Weak, so a
# stopped service is not kept alive by its runner.
_runners: weakref.WeakSet[OutboxRunner] = weakref.WeakSet()


def _wake_runners(_session: Session) -> None:
    for runner in list(_runners):
        runner.wake()


def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    now: datetime | None = None,
    delay_seconds: float = 0.0,
) -> OutboxJob:
    """Add a job inside the caller's transaction; it is due once the transaction commits."""
    if len(kind) > KIND_LENGTH:
        raise ValueError(f"outbox kind {kind!r} is longer than {KIND_LENGTH} characters")
    now = now or utcnow()
    job = OutboxJob(
        kind=kind,
        payload=payload,
        status=JobStatus.PENDING.value,
        attempts=0,
        available_at=now + timedelta(seconds=delay_seconds),
        leased_until=None,
        last_error=None,
        created_at=now,
        done_at=None,
    )
    session.add(job)
    sync_session = session.sync_session
    if not event.contains(sync_session, "after_commit", _wake_runners):
        event.listen(sync_session, "after_commit", _wake_runners)
    return job


# --- running ---------------------------------------------------------------------------


def backoff_seconds(attempts: int, base: float, cap: float = MAX_BACKOFF_SECONDS) -> float:
    """The pause after the ``attempts``-th failed attempt: base, 2x base, 4x base ...
    never longer than ``cap``."""
    if attempts < 1:
        return 0.0
    return float(min(cap, base * 2 ** min(attempts - 1, 30)))


def describe_error(exc: BaseException) -> str:
    """What ``last_error`` keeps: the exception's type and message, cut short. Handlers
    must not put secrets into exception messages (mail errors carry the server's reply,
    never the credentials)."""
    return f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH]


class OutboxRunner:
    """Claims due jobs of one database and runs them; ``run_due`` is one pass."""

    def __init__(self, svc: Services, clock: Callable[[], datetime] | None = None) -> None:
        self.svc = svc
        self.clock = clock or (lambda: svc.clock())
        self._task: PeriodicTask | None = None

    @property
    def db(self) -> Database:
        return self.svc.db

    # --- the periodic task -----------------------------------------------------------

    def start(self) -> None:
        self._task = PeriodicTask(
            "outbox-runner",
            self.run_due,
            lambda: self.svc.settings.outbox_poll_seconds,
            run_at_start=True,
        )
        self._task.start()
        _runners.add(self)

    async def stop(self) -> None:
        _runners.discard(self)
        if self._task is not None:
            await self._task.stop()
            self._task = None

    def wake(self) -> None:
        if self._task is not None:
            self._task.wake()

    # --- one pass ----------------------------------------------------------------------

    async def run_due(self) -> int:
        """Run every job due now, batch by batch; returns how many were attempted."""
        total = 0
        while True:
            claimed = await self.claim(CLAIM_BATCH)
            if not claimed:
                return total
            for job_id, kind, payload, attempt in claimed:
                await self._perform(job_id, kind, payload, attempt)
            total += len(claimed)

    async def run_batch(self, limit: int, stopping: asyncio.Event) -> int:
        """Claim up to ``limit`` due jobs and run them one after another (a worker loop's
        step). Once ``stopping`` is set, the jobs not yet started are handed back at once
        instead of waiting for their lease to run out. Returns how many were claimed."""
        claimed = await self.claim(limit)
        for index, (job_id, kind, payload, attempt) in enumerate(claimed):
            if stopping.is_set():
                await self.release([(job[0], job[3]) for job in claimed[index:]])
                break
            await self._perform(job_id, kind, payload, attempt)
        return len(claimed)

    async def release(self, jobs: list[tuple[int, int]]) -> None:
        """Give back leased jobs that were never started: (id, attempt) pairs. The
        attempt is not counted, and the guard leaves a job alone if its lease already
        passed to another runner."""
        async with self.db.write() as session:
            for job_id, attempt in jobs:
                await session.execute(
                    update(OutboxJob)
                    .where(
                        OutboxJob.id == job_id,
                        OutboxJob.attempts == attempt,
                        OutboxJob.status == JobStatus.PENDING.value,
                    )
                    .values(attempts=attempt - 1, leased_until=None)
                    .execution_options(synchronize_session=False)
                )

    async def claim(self, limit: int) -> list[tuple[int, str, dict[str, Any], int]]:
        """Lease up to ``limit`` due jobs: pending, available, and not leased (or leased by
        a runner whose lease ran out). Jobs whose lease ran out on their last attempt
        are failed instead. Returns (id, kind, payload, attempt number)."""
        settings = self.svc.settings
        now = self.clock()
        lease_until = now + timedelta(seconds=settings.outbox_lease_seconds)
        due = (
            OutboxJob.status == JobStatus.PENDING.value,
            OutboxJob.available_at <= now,
            or_(OutboxJob.leased_until.is_(None), OutboxJob.leased_until <= now),
        )
        # A read first: an idle poll must not take SQLite's single write connection.
        async with self.db.read() as session:
            if await session.scalar(select(OutboxJob.id).where(*due).limit(1)) is None:
                return []
        async with self.db.write() as session:
            query = (
                select(OutboxJob)
                .where(*due)
                .order_by(OutboxJob.available_at, OutboxJob.id)
                .limit(limit)
            )
            if not self.db.is_sqlite:
                # Other runners skip what this one holds instead of waiting for it.
                query = query.with_for_update(skip_locked=True)
            claimed = []
            for job in await session.scalars(query):
                if job.attempts >= settings.outbox_max_attempts:
                    # Its runner died during the last allowed attempt.
                    job.status = JobStatus.FAILED.value
                    job.leased_until = None
                    job.last_error = (job.last_error or "") + " (lease expired)"
                    log.warning("outbox job %s (%s) failed: lease expired", job.id, job.kind)
                    continue
                job.attempts += 1
                job.leased_until = lease_until
                claimed.append((job.id, job.kind, dict(job.payload), job.attempts))
        return claimed

    async def _perform(self, job_id: int, kind: str, payload: dict[str, Any], attempt: int) -> None:
        handler = handler_for(kind)
        error: str | None = None
        if handler is None:
            error = f"no handler for outbox kind {kind!r}"
        else:
            try:
                await handler(self.svc, payload)
            except Exception as exc:
                error = describe_error(exc)
        await self._settle(job_id, kind, attempt, error)

    async def _settle(self, job_id: int, kind: str, attempt: int, error: str | None) -> None:
        settings = self.svc.settings
        now = self.clock()
        if error is None:
            values: dict[str, Any] = {
                "status": JobStatus.DONE.value,
                "leased_until": None,
                "done_at": now,
                "last_error": None,
            }
        elif attempt >= settings.outbox_max_attempts:
            values = {"status": JobStatus.FAILED.value, "leased_until": None, "last_error": error}
            log.warning("outbox job %s (%s) failed after %s attempts", job_id, kind, attempt)
        else:
            delay = backoff_seconds(attempt, settings.outbox_retry_seconds)
            values = {
                "available_at": now + timedelta(seconds=delay),
                "leased_until": None,
                "last_error": error,
            }
            log.info(
                "outbox job %s (%s) attempt %s failed; retry in %.0fs", job_id, kind, attempt, delay
            )
        async with self.db.write() as session:
            # Only the runner holding the current attempt records its outcome.
            await session.execute(
                update(OutboxJob)
                .where(
                    OutboxJob.id == job_id,
                    OutboxJob.attempts == attempt,
                    OutboxJob.status == JobStatus.PENDING.value,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
