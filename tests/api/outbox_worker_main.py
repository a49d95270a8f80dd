"""Entry point of the worker processes of test_outbox_workers.py: the real
``supportdesk`` command line, plus a test-only outbox kind whose handler is slow and
records its effect idempotently (one row per job key, whoever runs it and however often),
and notes every start so the test knows when a worker holds jobs."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from sqlalchemy import text

from supportdesk.cli import main
from supportdesk.core import outbox
from supportdesk.services import Services

KIND = "test.effect"


async def record_effect(svc: Services, payload: dict[str, Any]) -> None:
    async with svc.db.write() as session:
        await session.execute(
            text("INSERT INTO test_runs (job_key, pid) VALUES (:key, :pid)"),
            {"key": payload["key"], "pid": os.getpid()},
        )
    await asyncio.sleep(float(payload["seconds"]))
    async with svc.db.write() as session:
        await session.execute(
            text(
                "INSERT INTO test_effects (job_key, pid) VALUES (:key, :pid) "
                "ON CONFLICT (job_key) DO NOTHING"
            ),
            {"key": payload["key"], "pid": os.getpid()},
        )


outbox.register(KIND, record_effect)

if __name__ == "__main__":
    main()
