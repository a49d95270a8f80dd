"""A lifespan background job that runs every N seconds until the app stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class PeriodicTask:
    """Runs ``job`` every ``interval()`` seconds (read each time, so tests and settings
    may change it). A failing run is logged and the next one still happens: a database
    or storage hiccup must not end the loop."""

    def __init__(
        self,
        name: str,
        job: Callable[[], Awaitable[object]],
        interval: Callable[[], float],
        *,
        run_at_start: bool,
    ) -> None:
        self.name = name
        self._job = job
        self._interval = interval
        self._run_at_start = run_at_start
        self._task: asyncio.Task[None] | None = None
        self._woken = asyncio.Event()

    def wake(self) -> None:
        """Run the job now instead of at the end of the current pause (the outbox wakes
        its runner when a transaction that enqueued work commits)."""
        self._woken.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _pause(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), self._interval())
        self._woken.clear()

    async def _run(self) -> None:
        if not self._run_at_start:
            await self._pause()
        while True:
            try:
                await self._job()
            except Exception:
                log.exception("%s failed", self.name)
            await self._pause()
