"""The gateway's per-socket send queue: frames come out in order, and a waiting pump
wakes up when a frame is put."""

from __future__ import annotations

import asyncio

from supportdesk.realtime.gateway import FrameQueue


async def test_frames_come_out_in_order() -> None:
    queue = FrameQueue()
    for frame in ("a", "b", None):
        queue.put_nowait(frame)
    assert queue.qsize() == 3
    assert [await queue.get() for _ in range(3)] == ["a", "b", None]
    assert queue.qsize() == 0


async def test_waiting_get_wakes_on_put() -> None:
    queue = FrameQueue()
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)  # the getter is now waiting on an empty queue
    assert not getter.done()
    queue.put_nowait("hello")
    assert await getter == "hello"


async def test_cancelled_get_leaves_the_queue_usable() -> None:
    queue = FrameQueue()
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    getter.cancel()
    await asyncio.gather(getter, return_exceptions=True)
    queue.put_nowait("x")
    assert await queue.get() == "x"
