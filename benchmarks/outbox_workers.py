"""Outbox throughput: jobs per second with 1 and with 2 ``supportdesk worker`` processes.

.venv/bin/python benchmarks/outbox_workers.py --jobs 20000 --workers 1 --workers 2

Starts a throwaway PostgreSQL on loopback (tests/servers.py), migrates it, and for each
worker count enqueues N jobs of a benchmark-only kind whose handler does nothing (so it
is trivially idempotent, and the figure is the outbox's own cost: claim, lease, settle),
then starts the workers and waits until every job is done. Jobs/s is taken from the
database (N over the span from the first to the last ``done_at``), so process start-up
is not counted; the wall time from start to drained is printed beside it.

The same file is the workers' entry point (``outbox_workers.py worker ...``): it
registers the benchmark kind and then runs the real ``supportdesk`` command line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from sqlalchemy import text  # noqa: E402

from supportdesk.core import outbox  # noqa: E402
from supportdesk.services import Services  # noqa: E402

KIND = "bench.noop"
SECRET = "bench-identity-secret-0123456789abcdef"
ENQUEUE_BATCH = 1000


async def noop(svc: Services, payload: dict[str, Any]) -> None:
    """Nothing to do, so running a job twice is harmless."""


outbox.register(KIND, noop)


async def enqueue_jobs(database_url: str, count: int) -> None:
    from supportdesk.core.db import Database

    db = Database(database_url)
    try:
        for start in range(0, count, ENQUEUE_BATCH):
            async with db.write() as session:
                for number in range(start, min(count, start + ENQUEUE_BATCH)):
                    outbox.enqueue(session, KIND, {"n": number})
    finally:
        await db.dispose()


async def outbox_state(database_url: str) -> tuple[int, int, float]:
    """(pending jobs, done jobs, seconds from the first to the last done_at)."""
    from supportdesk.core.db import Database

    db = Database(database_url)
    try:
        async with db.read() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT count(*) FILTER (WHERE status = 'pending'), "
                        "count(*) FILTER (WHERE status = 'done'), "
                        "EXTRACT(EPOCH FROM max(done_at) - min(done_at)) FROM outbox"
                    )
                )
            ).one()
    finally:
        await db.dispose()
    return int(row[0]), int(row[1]), float(row[2] or 0.0)


def worker_env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "SUPPORTDESK_DATABASE_URL": database_url,
        "SUPPORTDESK_DATA_DIR": str(data_dir),
        "SUPPORTDESK_IDENTITY_SECRET": SECRET,
        "SUPPORTDESK_LOG_LEVEL": "warning",
    }


def run_once(database_url: str, data_dir: Path, jobs: int, workers: int, concurrency: int) -> str:
    env = worker_env(database_url, data_dir)
    asyncio.run(enqueue_jobs(database_url, jobs))
    command = [sys.executable, __file__, "worker", "--concurrency", str(concurrency)]
    cpu_before = _children_cpu()
    started = time.perf_counter()
    procs = [
        subprocess.Popen([*command, "--poll", "0.2"], env=env, stdin=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    try:
        while True:
            pending, done, span = asyncio.run(outbox_state(database_url))
            if pending == 0:
                break
            if any(proc.poll() is not None for proc in procs):
                raise RuntimeError("a worker exited early")
            time.sleep(0.2)
        wall = time.perf_counter() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
    # CPU of the worker processes (waited for above), start-up and imports included.
    cpu = _children_cpu() - cpu_before
    return (
        f"| {workers} | {concurrency} | {jobs:,} | {done:,} | {span:.2f} "
        f"| {jobs / span:,.0f} | {wall:.2f} | {cpu:.1f} | {cpu / jobs * 1e6:,.0f} |"
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--workers", type=int, action="append", help="repeat; default 1 and 2")
    parser.add_argument("--concurrency", type=int, default=4, help="loops per worker")
    args = parser.parse_args()
    from tests.servers import PostgresServer

    from supportdesk import migrate

    print(
        "| workers | loops each | jobs | done | first→last done s | jobs/s | wall s "
        "| worker CPU s | worker CPU µs/job |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with PostgresServer() as server, tempfile.TemporaryDirectory() as tmp:
        for number, workers in enumerate(args.workers or [1, 2]):
            url = server.create_database(f"outbox{number}")
            asyncio.run(migrate.upgrade(url))
            print(run_once(url, Path(tmp), args.jobs, workers, args.concurrency), flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        from supportdesk.cli import main as cli_main

        cli_main()
    else:
        raise SystemExit(main())
