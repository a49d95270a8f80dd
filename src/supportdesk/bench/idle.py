"""``supportdesk bench idle``: how much memory one idle WebSocket costs the server.

It starts ``supportdesk serve`` (fresh SQLite file, or the database given) and, in the same
run, the bare relay of ``bench chat``. Against each it opens N idle sockets from this
process (no compression, no keepalive pings from the client; supportdesk sockets are
authenticated customer sockets and count only once their ``hello`` arrived), lets the
server settle, and reads the server process's ``VmRSS`` from /proc before and after:
growth / N is the memory per idle connection. The baseline is read after a few sockets
were opened and closed, so lazily built state (imports, validators, the database pool)
is not charged to the connections.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from supportdesk.bench.chat import BENCH_SECRET, ServerProcess
from supportdesk.bench.relay import raise_fd_limit, relay_url, start_relay_server
from supportdesk.config import Settings
from supportdesk.core.clock import utcnow
from supportdesk.identity.tokens import mint_identity_token

WARMUP_SOCKETS = 50
PORTALS = 100  # customers are spread over this many portals (the hub groups by portal)


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass
class IdleResult:
    target: str
    wanted: int
    opened: int
    failed: int
    rss_before_kib: int
    rss_after_kib: int
    open_seconds: float

    @property
    def kib_per_connection(self) -> float:
        return (self.rss_after_kib - self.rss_before_kib) / max(1, self.opened)


async def _open_idle(url: str, sem: asyncio.Semaphore, wait_hello: bool) -> ClientConnection:
    async with sem:
        ws = await connect(
            url, compression=None, proxy=None, open_timeout=60, ping_interval=None, close_timeout=2
        )
        if wait_hello:
            # The server has authenticated the socket and registered its Connection.
            first = await asyncio.wait_for(ws.recv(), 60)
            if '"hello"' not in str(first):
                await ws.close()
                raise RuntimeError(f"expected hello, got {first!r}")
        return ws


async def _open_many(
    urls: list[str], wait_hello: bool, parallel: int
) -> tuple[list[ClientConnection], int]:
    sem = asyncio.Semaphore(parallel)
    results = await asyncio.gather(
        *(_open_idle(url, sem, wait_hello) for url in urls), return_exceptions=True
    )
    sockets = [r for r in results if isinstance(r, ClientConnection)]
    return sockets, len(results) - len(sockets)


async def _close_all(sockets: list[ClientConnection]) -> None:
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


async def measure(
    target: str, pid: int, urls: list[str], wait_hello: bool, settle_s: float, parallel: int
) -> IdleResult:
    warm, _ = await _open_many(urls[:WARMUP_SOCKETS], wait_hello, parallel)
    await _close_all(warm)
    await asyncio.sleep(settle_s)
    before = rss_kib(pid)
    started = time.perf_counter()
    sockets, failed = await _open_many(urls, wait_hello, parallel)
    open_seconds = time.perf_counter() - started
    await asyncio.sleep(settle_s)
    after = rss_kib(pid)
    await _close_all(sockets)
    return IdleResult(target, len(urls), len(sockets), failed, before, after, open_seconds)


def customer_urls(settings: Settings, base_url: str, count: int) -> list[str]:
    ws_base = base_url.replace("http://", "ws://")
    now = utcnow()
    urls = []
    for i in range(count):
        token = mint_identity_token(
            settings,
            portal=f"idle-{i % PORTALS}",
            user=f"user-{i}",
            role="admin",
            plan="professional",
            now=now,
        )
        urls.append(f"{ws_base}/api/v1/stream?token={token}")
    return urls


async def bench_idle(
    counts: list[int], database_url: str | None, settle_s: float, parallel: int
) -> list[IdleResult]:
    raise_fd_limit()  # this client, and inherited by both servers
    gc.freeze()  # the client's own garbage does not matter here; keep its pauses short
    results: list[IdleResult] = []
    with tempfile.TemporaryDirectory(prefix="sd-bench-idle-") as tmp:
        data_dir = Path(tmp)
        url = database_url or f"sqlite+aiosqlite:///{data_dir / 'bench.db'}"
        settings = Settings(database_url=url, data_dir=data_dir, identity_secret=BENCH_SECRET)
        relay = start_relay_server()
        server = ServerProcess(url, data_dir)
        try:
            for count in counts:
                relay_targets = [relay_url(relay.port, i, "customer") for i in range(count)]
                results.append(
                    await measure(
                        "bare relay", relay.proc.pid, relay_targets, False, settle_s, parallel
                    )
                )
                urls = customer_urls(settings, server.base_url, count)
                results.append(
                    await measure("supportdesk", server.proc.pid, urls, True, settle_s, parallel)
                )
        finally:
            server.stop()
            relay.stop()
    return results


def format_idle_report(results: list[IdleResult]) -> str:
    lines = [
        "| target | sockets | opened | failed | RSS before MiB | RSS after MiB | KiB/socket "
        "| open s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.target} | {r.wanted:,} | {r.opened:,} | {r.failed} "
            f"| {r.rss_before_kib / 1024:.1f} | {r.rss_after_kib / 1024:.1f} "
            f"| {r.kib_per_connection:.1f} | {r.open_seconds:.1f} |"
        )
    return "\n".join(lines)
