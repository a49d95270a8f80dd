"""``supportdesk worker`` processes on a real PostgreSQL: two workers share the outbox,
one is killed with SIGKILL while it holds leased jobs, and every job still completes
exactly once after the leases run out; the survivor stops cleanly on SIGTERM.

PostgreSQL only, and never skipped: under ``--db postgresql`` the session's cluster
serves, otherwise the test starts a cluster of its own (``pg_database`` in
tests/api/conftest.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import orjson
from sqlalchemy import text

from supportdesk.app import build_services
from supportdesk.core import outbox
from supportdesk.core.outbox import JobStatus
from tests.api.outbox_worker_main import KIND
from tests.factories import SECRET
from tests.factories import test_settings as make_settings

ROOT = Path(__file__).resolve().parents[2]
JOBS = 30
JOB_SECONDS = 0.4
LEASE_SECONDS = 3


def start_worker(url: str, data_dir: Path, log_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "SUPPORTDESK_DATABASE_URL": url,
        "SUPPORTDESK_DATA_DIR": str(data_dir),
        "SUPPORTDESK_IDENTITY_SECRET": SECRET,
        "SUPPORTDESK_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "SUPPORTDESK_OUTBOX_RETRY_SECONDS": "1",
        "SUPPORTDESK_LOG_FORMAT": "json",
    }
    command = [sys.executable, "-m", "tests.api.outbox_worker_main", "worker"]
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [*command, "--concurrency", "2", "--poll", "0.1"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def test_killed_worker_jobs_complete_exactly_once(pg_database: str, tmp_path: Path) -> None:
    url = pg_database
    svc = build_services(make_settings(url, tmp_path))
    async with svc.db.write() as session:
        await session.execute(text("CREATE TABLE test_runs (job_key text, pid int)"))
        await session.execute(text("CREATE TABLE test_effects (job_key text PRIMARY KEY, pid int)"))
        for number in range(JOBS):
            outbox.enqueue(session, KIND, {"key": f"job-{number}", "seconds": JOB_SECONDS})

    async def scalar(sql: str) -> int:
        async with svc.db.read() as session:
            return int(await session.scalar(text(sql)) or 0)

    log_path = tmp_path / "workers.log"
    victim = start_worker(url, tmp_path, log_path)
    survivor = start_worker(url, tmp_path, log_path)
    try:
        # Kill the victim mid-job: it has started a job (and holds the rest of its
        # claimed batches) that it has not finished.
        async with asyncio.timeout(60):
            while not await scalar(
                f"SELECT count(*) FROM test_runs r WHERE r.pid = {victim.pid} AND NOT "
                "EXISTS (SELECT 1 FROM test_effects e WHERE e.job_key = r.job_key)"
            ):
                await asyncio.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)

        # The survivor finishes everything, the victim's jobs once their leases expire.
        async with asyncio.timeout(90):
            while await scalar("SELECT count(*) FROM outbox WHERE status <> 'done'"):
                await asyncio.sleep(0.1)

        # SIGTERM: a graceful exit.
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(20) == 0, log_path.read_text()
    finally:
        for proc in (victim, survivor):
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    async with svc.db.read() as session:
        jobs = list(await session.scalars(text("SELECT id FROM outbox")))
        statuses = {status for status in await session.scalars(text("SELECT status FROM outbox"))}
        effects = list(await session.execute(text("SELECT job_key, pid FROM test_effects")))
        retried = await session.scalar(
            text("SELECT count(*) FROM outbox WHERE attempts > 1 AND status = 'done'")
        )
        victim_runs = await session.scalar(
            text(f"SELECT count(*) FROM test_runs WHERE pid = {victim.pid}")
        )
        survivor_effects = await session.scalar(
            text(f"SELECT count(*) FROM test_effects WHERE pid = {survivor.pid}")
        )
    await svc.db.dispose()
    assert len(jobs) == JOBS
    assert statuses == {JobStatus.DONE.value}
    # Every job's effect exists, once (the key is unique and the handler idempotent).
    assert sorted(key for key, _pid in effects) == sorted(f"job-{n}" for n in range(JOBS))
    # The kill mattered: the victim ran jobs, and the ones it held were run again.
    assert victim_runs and retried and survivor_effects
    # The worker logs one JSON object per line.
    lines = [line for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert any(orjson.loads(line)["logger"] == "supportdesk.ops.worker" for line in lines)
