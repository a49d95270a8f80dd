"""The background task that lapses grants on time: ``do_expire_grants`` every
``SUPPORTDESK_ACCESS_SWEEP_SECONDS``. Correctness never waits for it (minting,
introspection and decisions check expiry themselves); it makes the chat's
``access_expired`` / ``access_request_expired`` items and log entries appear on time."""

from __future__ import annotations

import asyncio
import logging

from supportdesk.account_access.actions import do_expire_grants
from supportdesk.services import Services

log = logging.getLogger(__name__)


class GrantSweeper:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="access-grant-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await do_expire_grants(self.svc)
            except Exception:  # a database hiccup must not end the sweeping
                log.exception("access grant sweep failed")
            await asyncio.sleep(self.svc.settings.access_sweep_seconds)
