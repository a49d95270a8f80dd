"""The outbox on the database under test: jobs exist only when their transaction commits,
run once, retry with exponential backoff until they fail, survive a runner that dies
holding them (lease expiry), never run twice at once, and a commit wakes the runner.

The runner's clock is a variable here, so no test sleeps to make time pass."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from supportdesk.app import build_services
from supportdesk.core import outbox
from supportdesk.core.outbox import JobStatus, OutboxJob, OutboxRunner, backoff_seconds
from supportdesk.services import Services
from tests.factories import test_settings as make_settings

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def svc(database_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    settings = make_settings(
        database_url,
        tmp_path,
        outbox_retry_seconds=10.0,
        outbox_max_attempts=3,
        outbox_lease_seconds=60.0,
        outbox_poll_seconds=3600.0,
    )
    services = build_services(settings)
    try:
        yield services
    finally:
        await services.db.dispose()


calls: list[tuple[str, dict[str, Any]]] = []
failures_left: dict[str, int] = {}


async def record(_svc: Services, payload: dict[str, Any]) -> None:
    calls.append(("record", payload))


async def flaky(_svc: Services, payload: dict[str, Any]) -> None:
    calls.append(("flaky", payload))
    key = payload["key"]
    if failures_left.get(key, 0) > 0:
        failures_left[key] -= 1
        raise ConnectionError(f"receiver down ({key})")


outbox.register("test.record", record)
outbox.register("test.flaky", flaky)


@pytest.fixture(autouse=True)
def _reset() -> None:
    calls.clear()
    failures_left.clear()


async def enqueue(svc: Services, kind: str, payload: dict[str, Any], now: datetime = T0) -> int:
    async with svc.db.write() as session:
        job = outbox.enqueue(session, kind, payload, now=now)
        await session.flush()
        return job.id


async def job(svc: Services, job_id: int) -> OutboxJob:
    async with svc.db.read() as session:
        found = await session.get(OutboxJob, job_id)
        assert found is not None
        return found


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff_seconds(n, 10) for n in range(0, 6)] == [0, 10, 20, 40, 80, 160]
    assert backoff_seconds(40, 10) == outbox.MAX_BACKOFF_SECONDS


async def test_a_job_runs_once_and_is_marked_done(svc: Services) -> None:
    clock = Clock()
    runner = OutboxRunner(svc, clock)
    job_id = await enqueue(svc, "test.record", {"n": 1})
    assert await runner.run_due() == 1
    assert await runner.run_due() == 0
    assert calls == [("record", {"n": 1})]
    done = await job(svc, job_id)
    assert done.status == JobStatus.DONE
    assert done.attempts == 1
    assert done.done_at == T0
    assert done.leased_until is None and done.last_error is None


async def test_a_rolled_back_transaction_leaves_no_job(svc: Services) -> None:
    with pytest.raises(RuntimeError):
        async with svc.db.write() as session:
            outbox.enqueue(session, "test.record", {"n": 2})
            raise RuntimeError("the change failed")
    async with svc.db.read() as session:
        assert list(await session.scalars(select(OutboxJob))) == []


async def test_failures_retry_with_backoff_then_the_job_fails(svc: Services) -> None:
    clock = Clock()
    runner = OutboxRunner(svc, clock)
    failures_left["a"] = 99
    job_id = await enqueue(svc, "test.flaky", {"key": "a"})

    assert await runner.run_due() == 1
    first = await job(svc, job_id)
    assert first.status == JobStatus.PENDING and first.attempts == 1
    assert first.available_at == T0 + timedelta(seconds=10)
    assert first.last_error == "ConnectionError: receiver down (a)"

    clock.advance(9)
    assert await runner.run_due() == 0  # not due yet
    clock.advance(1)
    assert await runner.run_due() == 1
    second = await job(svc, job_id)
    assert second.attempts == 2
    assert second.available_at == clock.now + timedelta(seconds=20)  # doubled

    clock.advance(20)
    assert await runner.run_due() == 1
    failed = await job(svc, job_id)
    assert failed.status == JobStatus.FAILED and failed.attempts == 3
    assert failed.last_error == "ConnectionError: receiver down (a)"
    clock.advance(3600)
    assert await runner.run_due() == 0
    assert len(calls) == 3


async def test_a_job_that_fails_once_then_succeeds(svc: Services) -> None:
    clock = Clock()
    runner = OutboxRunner(svc, clock)
    failures_left["b"] = 1
    job_id = await enqueue(svc, "test.flaky", {"key": "b"})
    await runner.run_due()
    clock.advance(10)
    await runner.run_due()
    done = await job(svc, job_id)
    assert done.status == JobStatus.DONE and done.attempts == 2 and done.last_error is None


async def test_an_unknown_kind_is_retried_like_a_failure(svc: Services) -> None:
    clock = Clock()
    runner = OutboxRunner(svc, clock)
    job_id = await enqueue(svc, "test.nobody", {})
    await runner.run_due()
    pending = await job(svc, job_id)
    assert pending.status == JobStatus.PENDING
    assert pending.last_error == "no handler for outbox kind 'test.nobody'"


async def test_a_lease_keeps_others_away_until_it_expires(svc: Services) -> None:
    """Runner A claims the job and dies; runner B may take it only after the lease, and
    A's late outcome does not overwrite B's."""
    clock = Clock()
    a, b = OutboxRunner(svc, clock), OutboxRunner(svc, clock)
    job_id = await enqueue(svc, "test.record", {"n": 3})
    claimed = await a.claim(10)
    assert [c[0] for c in claimed] == [job_id]
    leased = await job(svc, job_id)
    assert leased.leased_until == T0 + timedelta(seconds=60) and leased.attempts == 1

    clock.advance(59)
    assert await b.run_due() == 0
    clock.advance(1)
    assert await b.run_due() == 1
    assert calls == [("record", {"n": 3})]
    taken_over = await job(svc, job_id)
    assert taken_over.status == JobStatus.DONE and taken_over.attempts == 2

    # A wakes up and reports a failure for its (stale) attempt: ignored.
    await a._settle(job_id, "test.record", 1, "TimeoutError: too late")
    after = await job(svc, job_id)
    assert after.status == JobStatus.DONE and after.last_error is None


async def test_a_lease_that_expires_on_the_last_attempt_fails_the_job(svc: Services) -> None:
    clock = Clock()
    runner = OutboxRunner(svc, clock)
    failures_left["c"] = 99
    job_id = await enqueue(svc, "test.flaky", {"key": "c"})
    await runner.run_due()  # attempt 1 fails
    clock.advance(10)
    await runner.run_due()  # attempt 2 fails
    clock.advance(20)
    assert len(await runner.claim(10)) == 1  # attempt 3 claimed; the runner dies
    clock.advance(61)
    assert await runner.run_due() == 0
    failed = await job(svc, job_id)
    assert failed.status == JobStatus.FAILED
    assert failed.last_error is not None and failed.last_error.endswith("(lease expired)")


async def test_concurrent_claims_never_share_a_job(svc: Services) -> None:
    clock = Clock()
    ids = [await enqueue(svc, "test.record", {"n": n}) for n in range(30)]
    runners = [OutboxRunner(svc, clock) for _ in range(3)]
    claims = await asyncio.gather(*(r.claim(12) for r in runners))
    claimed = [c[0] for batch in claims for c in batch]
    assert len(claimed) == len(set(claimed)) == 30
    assert sorted(claimed) == sorted(ids)


async def test_a_commit_that_enqueues_wakes_the_runner(svc: Services) -> None:
    """The runner polls once an hour here: the job runs because the commit woke it."""
    runner = OutboxRunner(svc)
    ran = asyncio.Event()

    async def signal(_svc: Services, _payload: dict[str, Any]) -> None:
        ran.set()

    outbox.register("test.signal", signal)
    runner.start()
    try:
        await asyncio.sleep(0)  # the first pass at start finds nothing
        async with svc.db.write() as session:
            outbox.enqueue(session, "test.signal", {})
        await asyncio.wait_for(ran.wait(), 20)
    finally:
        await runner.stop()


async def test_a_stopping_worker_hands_back_the_jobs_it_has_not_started(svc: Services) -> None:
    clock = Clock()
    runner = OutboxRunner(svc, clock)
    first = await enqueue(svc, "test.record", {"n": 1})
    second = await enqueue(svc, "test.record", {"n": 2})
    stopping = asyncio.Event()
    stopping.set()  # SIGTERM arrived while the batch was being claimed
    assert await runner.run_batch(5, stopping) == 2
    assert calls == []
    for job_id in (first, second):
        released = await job(svc, job_id)
        # Due again at once for any runner, and the unstarted attempt is not counted.
        assert released.status == JobStatus.PENDING
        assert released.attempts == 0 and released.leased_until is None
    assert await runner.run_batch(5, asyncio.Event()) == 2
    assert [payload["n"] for _kind, payload in calls] == [1, 2]
