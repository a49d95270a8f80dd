"""``supportdesk worker``: a process that only runs the outbox.

On PostgreSQL any number of these share the outbox table: each loop claims a small batch
with ``FOR UPDATE SKIP LOCKED`` (core/outbox.py), so workers never wait for or take each
other's jobs, and a worker that dies leaves leases that simply run out. App processes
started with ``SUPPORTDESK_OUTBOX_IN_PROCESS=false`` then leave all the work to them.

Shutdown is graceful: SIGTERM (or Ctrl-C) stops claiming, lets every loop finish the job
in hand, hands back the claimed jobs not yet started, and exits. A second signal stops
at once; the leases of the jobs in hand then expire and another worker retries them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from sqlalchemy.exc import DBAPIError

from supportdesk.config import Settings
from supportdesk.core.outbox import OutboxRunner
from supportdesk.services import Services

log = logging.getLogger(__name__)

# Jobs one loop claims at a time: few, so a busy worker does not sit on work that
# another worker could start, and a killed one strands little until its leases expire.
WORKER_BATCH = 5


def load_handlers() -> None:
    """Register the outbox handler of every feature: importing the app imports every
    feature's actions, which register their kinds, so a worker runs exactly the kinds
    the app enqueues."""
    import supportdesk.app  # noqa: F401


class OutboxWorker:
    def __init__(self, svc: Services, *, concurrency: int, poll_seconds: float) -> None:
        self.runner = OutboxRunner(svc)
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.stopping = asyncio.Event()

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        await asyncio.gather(*(self._loop(n) for n in range(self.concurrency)))

    async def _loop(self, number: int) -> None:
        while not self.stopping.is_set():
            try:
                claimed = await self.runner.run_batch(WORKER_BATCH, self.stopping)
            except (DBAPIError, OSError) as exc:
                # The database is away (restart, failover): keep polling until it is back.
                log.warning("outbox worker loop %s: database unavailable: %s", number, exc)
                claimed = 0
            if claimed == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), self.poll_seconds)


async def run_worker(settings: Settings, *, concurrency: int, poll_seconds: float) -> None:
    """Run until SIGTERM / SIGINT (see the module docstring)."""
    from supportdesk.app import build_services

    load_handlers()
    svc = build_services(settings)
    await svc.bus.start()
    worker = OutboxWorker(svc, concurrency=concurrency, poll_seconds=poll_seconds)
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()

    def on_signal(name: str) -> None:
        if worker.stopping.is_set():
            log.warning("outbox worker: second %s, stopping now", name)
            main.cancel()
            return
        log.info("outbox worker: %s, finishing the jobs in hand", name)
        worker.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig.name)
    log.info("outbox worker started: %s loops, polling every %ss", concurrency, poll_seconds)
    try:
        await worker.run()
    except asyncio.CancelledError:
        pass
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await svc.bus.stop()
        await svc.db.dispose()
    log.info("outbox worker stopped")
