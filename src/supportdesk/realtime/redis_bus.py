"""A bus across processes over Redis pub/sub (``SUPPORTDESK_REDIS_URL``).

Every process delivers its own events to its local subscribers at once, then hands
them to a background flusher that publishes everything queued meanwhile as ONE
Redis message (one round trip carries many events, so publishing never caps a node
at Redis's per-publish rate). Each message names the node that sent it; a process
skips its own messages, so every process sees every event exactly once.

Redis is never on the request path: ``publish`` only queues. When Redis is down,
messages are persisted already and reach this process's sockets directly; the other
processes miss them and catch up from the database when their subscription comes
back (``on_reconnect`` hooks: the gateway re-reads every watched conversation after
its cursors).

The subscriber owns its connection: no silent auto-reconnect inside redis-py. It
publishes a heartbeat on the channel every ``heartbeat_seconds`` and expects to
receive it back through its own subscription; a connection that stays up while the
subscription is gone (the known failure after a Redis restart behind a proxy) is
detected that way too, and the subscriber reconnects with backoff and subscribes
again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.retry import Retry

from supportdesk.realtime.bus import Bus
from supportdesk.realtime.events import decode_events

log = logging.getLogger(__name__)

CHANNEL = "supportdesk:events"
# One hash per process: agent id -> open staff sockets, so that presence counts every
# process's sockets. Rewritten with each heartbeat (it survives a Redis restart that
# way) and expiring when a process stops refreshing it.
SOCKETS_PREFIX = "supportdesk:sockets:"
SOCKETS_TTL_SECONDS = 15
MAX_BATCH_EVENTS = 2_000  # events in one Redis message
MAX_PENDING_EVENTS = 100_000  # queued while Redis is slow; beyond it the oldest are dropped


def encode_batch(node: bytes, events: Sequence[Any]) -> bytes:
    """``node`` + newline + the JSON list of events (an empty list is a heartbeat)."""
    return node + b"\n" + orjson.dumps([event.model_dump(mode="json") for event in events])


RESYNC = b"resync"  # body of a message asking every process to catch up from the database


def decode_batch(payload: bytes) -> tuple[bytes, list[Any]]:
    node, _, body = payload.partition(b"\n")
    return node, decode_events(body) if body.startswith(b"[") and body != b"[]" else []


class RedisBus(Bus):
    def __init__(
        self,
        url: str,
        *,
        channel: str = CHANNEL,
        heartbeat_seconds: float = 1.0,
        timeout_seconds: float = 2.0,
        backoff_max_seconds: float = 5.0,
    ) -> None:
        super().__init__()
        self.url = url
        self.channel = channel
        self.node = uuid.uuid4().hex.encode()
        self.heartbeat_seconds = heartbeat_seconds
        self.timeout_seconds = timeout_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.connected = False  # the subscription is live
        self.published_messages = 0  # Redis PUBLISH calls that carried events
        self.dropped_events = 0  # events other processes never got live (they catch up)
        self._pending: list[Any] = []
        self._wake = asyncio.Event()
        self._subscribed = asyncio.Event()  # set once the first subscription is live
        self._reconnect_hooks: list[Callable[[], None]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._client: Redis | None = None
        self._stopping = False
        self._down_logged = False
        self._lost_publishes = False  # some events never left: ask the others to catch up
        self._staff_counts: dict[int, int] = {}
        self._changed_agents: set[int] = set()
        self.sockets_key = SOCKETS_PREFIX + self.node.decode()

    # --- publishing -----------------------------------------------------------------

    async def publish(self, events: Sequence[Any]) -> None:
        if not events:
            return
        self._deliver(events)
        if self._stopping:
            return
        self._pending.extend(events)
        overflow = len(self._pending) - MAX_PENDING_EVENTS
        if overflow > 0:
            del self._pending[:overflow]
            self.dropped_events += overflow
            self._lost_publishes = True
        self._wake.set()

    def take_batch(self) -> list[Any]:
        """The next events to send as one message (all that queued, up to a cap)."""
        batch = self._pending[:MAX_BATCH_EVENTS]
        del self._pending[:MAX_BATCH_EVENTS]
        return batch

    async def _flush_forever(self, send: Callable[[bytes], Awaitable[Any]]) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._changed_agents:
                await self._write_changed_counts()
            while self._pending:
                batch = self.take_batch()
                if not self.connected:
                    # Redis is down: this process delivered them already, the others
                    # catch up from the database when their subscription returns.
                    self.dropped_events += len(batch)
                    self._lost_publishes = True
                    continue
                try:
                    if self._lost_publishes:
                        # Events of ours never reached the others while their
                        # subscriptions may have stayed up: ask them to catch up.
                        await send(self.node + b"\n" + RESYNC)
                        self._lost_publishes = False
                    await send(encode_batch(self.node, batch))
                    self.published_messages += 1
                except (RedisError, OSError) as exc:
                    self.dropped_events += len(batch)
                    self._lost_publishes = True
                    self._log_down(exc)
                except Exception:  # a bug must not end publishing for good
                    log.exception("redis bus publish failed")
                    self.dropped_events += len(batch)
                    self._lost_publishes = True

    # --- staff sockets across processes -----------------------------------------------

    def track_staff_sockets(self, counts: dict[int, int]) -> None:
        self._staff_counts = counts

    def staff_sockets_changed(self, agent_id: int) -> None:
        self._changed_agents.add(agent_id)
        self._wake.set()

    async def _write_changed_counts(self) -> None:
        changed, self._changed_agents = self._changed_agents, set()
        if not self.connected or self._client is None:
            return  # the heartbeat after the reconnect writes them all
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                for agent_id in changed:
                    count = self._staff_counts.get(agent_id, 0)
                    if count > 0:
                        pipe.hset(self.sockets_key, str(agent_id), count)
                    else:
                        pipe.hdel(self.sockets_key, str(agent_id))
                pipe.expire(self.sockets_key, SOCKETS_TTL_SECONDS)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._log_down(exc)

    async def _write_all_counts(self) -> None:
        assert self._client is not None
        counts: dict[Any, Any] = {str(agent): n for agent, n in self._staff_counts.items() if n > 0}
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(self.sockets_key)
            if counts:
                pipe.hset(self.sockets_key, mapping=counts)
                pipe.expire(self.sockets_key, SOCKETS_TTL_SECONDS)
            await pipe.execute()

    async def agent_connected_elsewhere(self, agent_id: int) -> bool:
        if not self.connected or self._client is None:
            return False  # Redis is away: this process's own sockets decide
        try:
            async for key in self._client.scan_iter(match=SOCKETS_PREFIX + "*", count=500):
                if key.decode() == self.sockets_key:
                    continue
                count = await self._client.hget(key, str(agent_id))
                if count is not None and int(count) > 0:
                    return True
        except (RedisError, OSError) as exc:
            self._log_down(exc)
        return False

    # --- subscribing ------------------------------------------------------------------

    def on_reconnect(self, hook: Callable[[], None]) -> None:
        """``hook`` runs each time the subscription is (re-)established."""
        self._reconnect_hooks.append(hook)

    def _went_down(self, exc: BaseException) -> None:
        self.connected = False
        self._lost_publishes = True
        self._log_down(exc)

    def _log_down(self, exc: BaseException) -> None:
        if not self._down_logged:  # once per outage, not once per event
            self._down_logged = True
            log.warning(
                "redis bus unavailable (%s: %s): delivering to this process only until it returns",
                type(exc).__name__,
                exc,
            )

    def _came_up(self) -> None:
        self.connected = True
        self._subscribed.set()
        if self._down_logged:
            self._down_logged = False
            log.warning("redis bus subscribed again: catching up watched conversations")
        self._run_reconnect_hooks()

    def _run_reconnect_hooks(self) -> None:
        for hook in list(self._reconnect_hooks):
            try:
                hook()
            except Exception:
                log.exception("bus reconnect hook failed")

    def _redis(self) -> Redis:
        # No retries inside redis-py: a silent reconnect of the subscriber would skip our
        # catch-up (the publisher retries in ``_send``).
        return Redis.from_url(
            self.url,
            socket_connect_timeout=self.timeout_seconds,
            socket_timeout=self.timeout_seconds,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )

    async def _listen_forever(self) -> None:
        delay = 0.1
        while not self._stopping:
            client = self._redis()
            pubsub = client.pubsub(ignore_subscribe_messages=False)
            try:
                await pubsub.subscribe(self.channel)
                confirm = await pubsub.get_message(timeout=self.timeout_seconds)
                if not confirm or confirm["type"] != "subscribe":
                    raise ConnectionError("no subscribe confirmation")
                await self._write_all_counts()
                self._came_up()
                delay = 0.1
                await self._read(pubsub)
            except (RedisError, OSError, TimeoutError) as exc:
                self._went_down(exc)
            except Exception as exc:  # a bug must not end live fan-out for good
                log.exception("redis bus subscriber failed")
                self._went_down(exc)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), self.timeout_seconds)  # type: ignore[no-untyped-call]
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.aclose(), self.timeout_seconds)
            if self._stopping:
                return
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, self.backoff_max_seconds)

    async def _read(self, pubsub: Any) -> None:
        assert self._client is not None
        heartbeat = encode_batch(self.node, [])
        last_echo = last_sent = time.monotonic()
        while True:
            message = await pubsub.get_message(timeout=self.heartbeat_seconds / 2)
            now = time.monotonic()
            if message is not None and message["type"] == "message":
                data: bytes = message["data"]
                node, events = decode_batch(data)
                if node == self.node:
                    last_echo = now
                elif events:
                    self._deliver(events)
                elif data.endswith(b"\n" + RESYNC):
                    self._run_reconnect_hooks()
            if now - last_echo > self.heartbeat_seconds + self.timeout_seconds:
                raise ConnectionError("heartbeat did not come back: subscription lost")
            if now - last_sent >= self.heartbeat_seconds:
                last_sent = now
                await self._send(heartbeat)
                await self._write_all_counts()

    async def _send(self, payload: bytes) -> None:
        assert self._client is not None
        try:
            await self._client.publish(self.channel, payload)
        except RedisConnectionError:
            # After a Redis restart the pooled connection is dead, and the first command
            # on it fails; redis-py dropped it, so one more try uses a fresh connection.
            # A repeated publish is harmless (items are deduplicated by seq).
            await self._client.publish(self.channel, payload)

    # --- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        self._client = self._redis()

        self._tasks = [
            asyncio.create_task(self._listen_forever(), name="redis-bus-listen"),
            asyncio.create_task(self._flush_forever(self._send), name="redis-bus-flush"),
        ]
        # Give the first subscription a moment so events of the first requests go out;
        # a Redis that is down at start-up does not stop the service from starting.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), self.timeout_seconds)

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._client.delete(self.sockets_key), self.timeout_seconds)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._client.aclose(), self.timeout_seconds)
