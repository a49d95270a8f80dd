"""The Redis bus's publisher: events per second across processes, batched vs one PUBLISH
per event.

.venv/bin/python benchmarks/redis_bus.py --events 100000

Starts a throwaway Redis on loopback (tests/servers.py). A publishing ``RedisBus`` runs
in this process; the receiving ``RedisBus`` runs in a child process (as another app
node would) and reports when it has every event. Each run publishes N small events one
``publish()`` call at a time, letting other tasks run every K calls (K=1 is the worst
case for batching: the flusher may send after every single event). The baseline awaits
one ``PUBLISH`` per event on the same connection settings, which is what a bus without
batching costs.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.servers import RedisServer  # noqa: E402

from supportdesk.realtime.events import PresenceEvent  # noqa: E402
from supportdesk.realtime.redis_bus import RedisBus, encode_batch  # noqa: E402

EVENT = PresenceEvent(agent_id=1, presence="online")


def receiver(url: str, expected: int, ready: Any, done: Any) -> None:
    async def run() -> None:
        bus = RedisBus(url)
        got = 0
        finished = asyncio.Event()

        def on_events(events: Sequence[Any]) -> None:
            nonlocal got
            got += len(events)
            if got >= expected:
                finished.set()

        bus.subscribe(on_events)
        await bus.start()
        ready.set()
        await finished.wait()
        done.set()
        await bus.stop()

    asyncio.run(run())


async def batched(url: str, events: int, every: int) -> tuple[float, int]:
    bus = RedisBus(url)
    await bus.start()
    ctx = multiprocessing.get_context("spawn")
    ready, done = ctx.Event(), ctx.Event()
    child = ctx.Process(target=receiver, args=(url, events, ready, done))
    child.start()
    await asyncio.to_thread(ready.wait, 30)
    start = time.perf_counter()
    for i in range(events):
        await bus.publish([EVENT])
        if i % every == 0:
            await asyncio.sleep(0)
    await asyncio.to_thread(done.wait, 120)
    elapsed = time.perf_counter() - start
    child.join(10)
    messages = bus.published_messages
    await bus.stop()
    return events / elapsed, messages


async def one_publish_per_event(url: str, events: int) -> float:
    bus = RedisBus(url)
    client = bus._redis()
    payload = encode_batch(bus.node, [EVENT])
    start = time.perf_counter()
    for _ in range(events):
        await client.publish("supportdesk:bench", payload)
    elapsed = time.perf_counter() - start
    await client.aclose()
    return events / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    with RedisServer() as redis:
        baseline = await one_publish_per_event(redis.url, min(args.events, 20_000))
        print(f"one PUBLISH per event:           {baseline:>10,.0f} events/s")
        for every in (1, 10, 200):
            rate, messages = await batched(redis.url, args.events, every)
            print(
                f"batched, yield every {every:>3} publish: {rate:>10,.0f} events/s "
                f"({args.events:,} events in {messages:,} Redis messages)"
            )


if __name__ == "__main__":
    asyncio.run(main())
