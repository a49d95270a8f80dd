"""Closed-loop WebSocket chat load generator, independent of the server being measured.

Each customer/agent pair ping-pongs: the customer sends message k and waits until the agent's
socket receives it, then the agent replies and the customer waits for that, and so on. Closed loop
means throughput is bounded by send->delivery latency, which is what a chat user feels, and that
the server is never flooded beyond what it can deliver (no unbounded queues distort the numbers).

What a frame looks like is the only thing that differs between targets; a :class:`Protocol`
object encapsulates it (:class:`RelayProtocol`, :class:`SupportdeskProtocol`). The caller supplies
ready-made :class:`PairEndpoints` (URLs with whatever auth the target needs).

On a small machine the client competes with the server for CPU, so the pairs can be split over
several spawned client processes, each with its own event loop. Every process returns its raw
latency samples, so merged percentiles are exact, not averages of percentiles.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import multiprocessing as mp
import queue as queue_mod
import threading
import time
import typing
import uuid
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from supportdesk.bench.relay import raise_fd_limit

# Measured on the 2-core dev box with benchmarks/relay_only.py: one client process beats two
# (relay, 100 pairs: ~53k vs ~43k msgs/s; 1000 pairs: equal msgs/s, p99 ~100 vs ~170 ms).
DEFAULT_PROCESSES = 1
CONNECT_CONCURRENCY = 100
DELIVERY_TIMEOUT_S = 10.0
# After the measured window ends, an in-flight message gets this long before the pair stops;
# it is not counted either way, so this only bounds shutdown time.
_DRAIN_S = 2.0
_OTHER_SIDE = {"customer": "agent", "agent": "customer"}


@dataclass
class PairEndpoints:
    customer_url: str  # ws:// URL to connect as the customer
    agent_url: str  # ws:// URL to connect as the agent
    conversation_id: int | None  # None for the relay


class Protocol(typing.Protocol):
    """How frames look for one target. Implementations must be picklable (sent to processes)."""

    def send_frame(self, pair: PairEndpoints, sender: str, seqno: int, payload: str) -> str:
        """Text frame that ``sender`` ("customer"/"agent") sends to deliver ``payload``."""
        ...

    def delivered_token(self, frame: str, receiver: str) -> str | None:
        """The payload if ``frame`` delivers the other side's message to ``receiver``, else None."""
        ...

    def is_ready(self, frame: str) -> bool:
        """Whether this frame, read right after connecting, says live delivery has started.
        Targets that send nothing on connect answer ``True`` without a frame (``ready_frame``)."""
        ...

    ready_frame: bool


class RelayProtocol:
    """The relay forwards frames verbatim: the frame *is* the payload."""

    ready_frame = False

    def is_ready(self, frame: str) -> bool:
        return True

    def send_frame(self, pair: PairEndpoints, sender: str, seqno: int, payload: str) -> str:
        return payload

    def delivered_token(self, frame: str, receiver: str) -> str | None:
        return frame


class SupportdeskProtocol:
    """supportdesk realtime socket: ``message.send`` out, ``item`` frames in.

    The sender also receives an ``ack`` and an echo of its own item; only an item of kind
    "message" authored by the *other* side counts as a delivery. Live delivery starts with
    the server's ``hello`` (it authenticates first), so a client waits for it.
    """

    ready_frame = True

    def is_ready(self, frame: str) -> bool:
        return frame.startswith('{"type":"hello"')

    def send_frame(self, pair: PairEndpoints, sender: str, seqno: int, payload: str) -> str:
        frame = {
            "type": "message.send",
            "conversation_id": pair.conversation_id,
            "body": payload,
            "client_key": uuid.uuid4().hex,
        }
        return orjson.dumps(frame).decode()

    def delivered_token(self, frame: str, receiver: str) -> str | None:
        try:
            data = orjson.loads(frame)
            item = data["item"]  # KeyError for ack/hello/queue/typing/pong/...
            wanted = (
                data["type"] == "item"
                and item["kind"] == "message"
                and item["author"]["type"] == _OTHER_SIDE[receiver]
            )
            body = item["body"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return None
        return body if wanted and isinstance(body, str) else None


@dataclass
class RawStats:
    """What one client process measured; merging is exact (samples are concatenated)."""

    pairs: int = 0
    samples_ns: array[int] = field(default_factory=lambda: array("q"))
    errors: Counter[str] = field(default_factory=Counter)


def merge_stats(parts: Iterable[RawStats]) -> RawStats:
    merged = RawStats()
    for part in parts:
        merged.pairs += part.pairs
        merged.samples_ns.extend(part.samples_ns)
        merged.errors.update(part.errors)
    return merged


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (an observed value) of an ascending sequence; NaN if empty."""
    if not sorted_values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"percentile out of range: {q}")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return float(sorted_values[rank - 1])


@dataclass
class BenchResult:
    """Summary of one measured window; latencies in milliseconds, send -> delivery."""

    pairs: int
    deliveries: int
    seconds: float
    msgs_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    error_kinds: dict[str, int] = field(default_factory=dict)


def summarize(stats: RawStats, seconds: float) -> BenchResult:
    ordered = sorted(stats.samples_ns)
    return BenchResult(
        pairs=stats.pairs,
        deliveries=len(ordered),
        seconds=seconds,
        msgs_per_s=len(ordered) / seconds if seconds > 0 else 0.0,
        p50_ms=percentile(ordered, 50) / 1e6,
        p99_ms=percentile(ordered, 99) / 1e6,
        max_ms=ordered[-1] / 1e6 if ordered else math.nan,
        errors=sum(stats.errors.values()),
        error_kinds=dict(stats.errors),
    )


# ---------------------------------------------------------------- one client process


async def _open(url: str, sem: asyncio.Semaphore, timeout_s: float) -> ClientConnection:
    async with sem:
        return await connect(
            url,
            compression=None,
            proxy=None,
            open_timeout=timeout_s,
            ping_interval=None,  # keepalive pings would be noise inside a 10 s measurement
            close_timeout=2,
        )


async def _recv_token(
    ws: ClientConnection, protocol: Protocol, receiver: str, token: str, deadline: float
) -> None:
    """Read frames until ``token`` is delivered; skips acks, own echoes and late deliveries."""
    async with asyncio.timeout_at(deadline):
        while True:
            frame = await ws.recv()
            if not isinstance(frame, str):
                frame = frame.decode()
            if protocol.delivered_token(frame, receiver) == token:
                return


async def _pair_loop(
    index: int,
    pair: PairEndpoints,
    sockets: dict[str, ClientConnection],
    protocol: Protocol,
    window: tuple[int, int],
    timeout_s: float,
    stats: RawStats,
) -> None:
    start_ns, end_ns = window
    loop = asyncio.get_running_loop()
    clock = time.perf_counter_ns
    for k in range(10**9):  # bounded by end_ns in practice
        now = clock()
        if now >= end_ns:
            return
        sender = "customer" if k % 2 == 0 else "agent"
        receiver = _OTHER_SIDE[sender]
        token = f"{index}:{k}:{sender}"
        frame = protocol.send_frame(pair, sender, k, token)
        # Never wait past the drain period: late deliveries are outside the window anyway.
        budget = min(timeout_s, (end_ns - now) / 1e9 + _DRAIN_S)
        t0 = clock()
        try:
            await sockets[sender].send(frame)
            await _recv_token(sockets[receiver], protocol, receiver, token, loop.time() + budget)
        except TimeoutError:
            if clock() < end_ns:
                stats.errors["timeout"] += 1
            continue
        except ConnectionClosed:
            stats.errors["closed"] += 1
            return
        t1 = clock()
        if start_ns <= t1 <= end_ns:
            stats.samples_ns.append(t1 - t0)


async def _close_all(conns: Iterable[ClientConnection], timeout_s: float = 15.0) -> None:
    sem = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def close(ws: ClientConnection) -> None:
        async with sem:
            await ws.close()

    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            await asyncio.gather(*(close(ws) for ws in conns), return_exceptions=True)


@dataclass
class _Job:
    """One client process's share of the run (picklable, so it can cross a spawn boundary)."""

    indexed: list[tuple[int, PairEndpoints]]  # global pair index, endpoints
    protocol: Protocol
    duration_s: float
    warmup_s: float
    timeout_s: float
    connect_concurrency: int


async def _run_job(job: _Job, barrier: typing.Any = None) -> RawStats:
    """Connect all pairs, (optionally) sync with sibling processes, run the window, close."""
    raise_fd_limit()
    stats = RawStats(pairs=len(job.indexed))
    sem = asyncio.Semaphore(job.connect_concurrency)

    async def open_pair(pair: PairEndpoints) -> dict[str, ClientConnection] | None:
        # customer first: a target may announce the conversation to the agent on customer join
        opened: dict[str, ClientConnection] = {}
        try:
            opened["customer"] = await _open(pair.customer_url, sem, job.timeout_s)
            opened["agent"] = await _open(pair.agent_url, sem, job.timeout_s)
            if job.protocol.ready_frame:
                async with asyncio.timeout(job.timeout_s):
                    for ws in opened.values():
                        while not job.protocol.is_ready(str(await ws.recv())):
                            pass
            return opened
        except (OSError, TimeoutError, WebSocketException) as exc:
            stats.errors[f"connect:{type(exc).__name__}"] += 1
            await _close_all(opened.values(), timeout_s=5)
            return None

    opened = await asyncio.gather(*(open_pair(p) for _, p in job.indexed))
    live = [(i, p, s) for (i, p), s in zip(job.indexed, opened, strict=True) if s is not None]
    # Thousands of long-lived connection objects make each full GC take tens of ms, stalling
    # every in-flight message at once (inflating p99 for any target); exempt them from GC.
    gc.collect()
    gc.freeze()
    try:
        if barrier is not None:
            try:  # all processes start their window together (skew: a few ms at most)
                await asyncio.to_thread(barrier.wait, 120.0)
            except threading.BrokenBarrierError:
                stats.errors["barrier"] += 1
        start_ns = time.perf_counter_ns() + int(job.warmup_s * 1e9)
        window = (start_ns, start_ns + int(job.duration_s * 1e9))
        await asyncio.gather(
            *(_pair_loop(i, p, s, job.protocol, window, job.timeout_s, stats) for i, p, s in live)
        )
    finally:
        gc.unfreeze()
        await _close_all([ws for _, _, socks in live for ws in socks.values()])
    return stats


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (as uvicorn uses it): the client should be as cheap as possible."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _process_entry(slot: int, out: typing.Any, job: _Job, barrier: typing.Any) -> None:
    """Top-level (so spawn can import it); always reports back, even on failure."""
    try:
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            out.put((slot, runner.run(_run_job(job, barrier)), None))
    except BaseException as exc:  # report, do not leave the parent waiting
        out.put((slot, None, type(exc).__name__))


def _run_processes(jobs: list[_Job]) -> RawStats:
    """Run each job in a spawned process and merge what they measured (blocking)."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(jobs))
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_process_entry, args=(slot, out, job, barrier), daemon=True)
        for slot, job in enumerate(jobs)
    ]
    for proc in procs:
        proc.start()
    # spawn + import + connect + barrier + warm-up + window + drain + close, generously bounded
    job = jobs[0]
    deadline = time.monotonic() + 180 + job.warmup_s + job.duration_s + job.timeout_s
    parts: dict[int, RawStats] = {}
    failures = Counter[str]()
    for _ in procs:
        try:
            slot, stats, err = out.get(timeout=max(1.0, deadline - time.monotonic()))
        except queue_mod.Empty:
            break
        if stats is None:
            failures[f"process:{err}"] += len(jobs[slot].indexed)
        parts[slot] = stats or RawStats()
    for slot, proc in enumerate(procs):
        proc.join(timeout=max(1.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=5)
        if slot not in parts:  # crashed or hung without reporting: its pairs all failed
            failures["process:lost"] += len(jobs[slot].indexed)
    merged = merge_stats(parts.values())
    merged.pairs = sum(len(j.indexed) for j in jobs)
    merged.errors.update(failures)
    return merged


async def run_closed_loop(
    pairs: list[PairEndpoints],
    protocol: Protocol,
    duration_s: float,
    warmup_s: float,
    processes: int = DEFAULT_PROCESSES,
    *,
    timeout_s: float = DELIVERY_TIMEOUT_S,
    connect_concurrency: int = CONNECT_CONCURRENCY,
) -> BenchResult:
    """Run the closed loop over ``pairs`` and return throughput/latency for the measured window.

    ``processes == 1`` runs on the caller's event loop; more spawns that many client processes
    (the calling script needs an ``if __name__ == "__main__":`` guard). A delivery counts if it
    is *received* inside the window ``[warm-up end, warm-up end + duration_s]``.
    """
    processes = max(1, min(processes, len(pairs) or 1))
    indexed = list(enumerate(pairs))
    jobs = [
        _Job(indexed[i::processes], protocol, duration_s, warmup_s, timeout_s, connect_concurrency)
        for i in range(processes)
    ]
    if processes == 1:
        stats = await _run_job(jobs[0])
    else:
        stats = await asyncio.to_thread(_run_processes, jobs)
    return summarize(stats, duration_s)


def format_report(results: dict[str, BenchResult], baseline_key: str) -> str:
    """Plain-text table; the last column is each row's throughput as % of ``baseline_key``."""
    base = results[baseline_key].msgs_per_s
    header = (
        f"{'target':<28} {'pairs':>6} {'msgs/s':>10} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'errors':>7} {'% of ' + baseline_key:>14}"
    )
    lines = [header, "-" * len(header)]
    for name, r in results.items():
        share = f"{100 * r.msgs_per_s / base:.1f}%" if base > 0 else "n/a"
        lines.append(
            f"{name:<28} {r.pairs:>6} {r.msgs_per_s:>10.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{r.max_ms:>8.2f} {r.errors:>7} {share:>14}"
        )
    return "\n".join(lines)
