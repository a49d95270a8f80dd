"""The Redis bus's publisher: local delivery first, then one Redis message per batch."""

from __future__ import annotations

import asyncio
from typing import Any

from supportdesk.realtime.events import PresenceEvent
from supportdesk.realtime.redis_bus import RedisBus, decode_batch, encode_batch


def _events(n: int, start: int = 0) -> list[PresenceEvent]:
    return [PresenceEvent(agent_id=start + i, presence="online") for i in range(n)]


async def test_publishes_queued_meanwhile_go_out_as_one_message() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0")
    bus.connected = True
    local: list[Any] = []
    bus.subscribe(local.extend)
    sent: list[bytes] = []
    release = asyncio.Event()

    async def send(payload: bytes) -> None:
        sent.append(payload)
        await release.wait()  # the first publish is "in flight" while more arrive

    flusher = asyncio.create_task(bus._flush_forever(send))
    await bus.publish(_events(1))
    await asyncio.sleep(0)
    for i in range(50):
        await bus.publish(_events(2, start=100 + 2 * i))
    release.set()
    for _ in range(20):
        await asyncio.sleep(0)
    flusher.cancel()

    assert len(local) == 101  # every event reached this process's subscribers at once
    assert len(sent) == 2  # 101 publishes, two Redis messages
    node, first = decode_batch(sent[0])
    assert node == bus.node and [e.agent_id for e in first] == [0]
    _, second = decode_batch(sent[1])
    assert [e.agent_id for e in second] == list(range(100, 200))


async def test_redis_down_delivers_locally_and_never_raises() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0")
    bus.connected = True
    local: list[Any] = []
    bus.subscribe(local.extend)

    async def send(payload: bytes) -> None:
        raise ConnectionError("refused")

    flusher = asyncio.create_task(bus._flush_forever(send))
    await bus.publish(_events(3))
    for _ in range(5):
        await asyncio.sleep(0)
    bus.connected = False  # the subscriber noticed: nothing is even tried
    await bus.publish(_events(2))
    for _ in range(5):
        await asyncio.sleep(0)
    flusher.cancel()

    assert len(local) == 5
    assert bus.dropped_events == 5
    assert bus.published_messages == 0


async def test_after_lost_publishes_the_others_are_asked_to_catch_up() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0")
    bus.connected = True
    sent: list[bytes] = []
    fail = True

    async def send(payload: bytes) -> None:
        if fail:
            raise ConnectionError("refused")
        sent.append(payload)

    flusher = asyncio.create_task(bus._flush_forever(send))
    await bus.publish(_events(1))
    for _ in range(5):
        await asyncio.sleep(0)
    fail = False
    await bus.publish(_events(1, start=7))
    for _ in range(5):
        await asyncio.sleep(0)
    flusher.cancel()

    assert sent[0] == bus.node + b"\nresync"
    assert [e.agent_id for e in decode_batch(sent[1])[1]] == [7]
    assert decode_batch(sent[0]) == (bus.node, [])


def test_batch_round_trip_and_heartbeat() -> None:
    node, events = decode_batch(encode_batch(b"abc", _events(2)))
    assert node == b"abc" and [e.agent_id for e in events] == [0, 1]
    assert decode_batch(encode_batch(b"abc", [])) == (b"abc", [])


async def test_take_batch_caps_one_message() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0")
    bus._pending.extend(_events(2_500))
    assert len(bus.take_batch()) == 2_000
    assert len(bus.take_batch()) == 500
