"""The bus carries committed events to every process's gateway.

``InProcessBus`` is the embedded default. A Redis implementation plugs in behind the
same two methods: a batch is published as one message, so the cost per event stays
low, and each process's hub routes events to its own sockets.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[Sequence[Any]], None]


class Bus(ABC):
    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """``handler`` gets every batch of events; it must not block."""
        self._handlers.append(handler)
        return lambda: self._handlers.remove(handler)

    def _deliver(self, events: Sequence[Any]) -> None:
        for handler in list(self._handlers):
            try:
                handler(events)
            except Exception:  # one broken subscriber must not stop the others
                log.exception("bus handler failed")

    @abstractmethod
    async def publish(self, events: Sequence[Any]) -> None: ...

    def on_reconnect(self, hook: Callable[[], None]) -> None:
        """``hook`` runs whenever a bus that crosses processes subscribes again after an
        outage (events of other processes were missed meanwhile); never in-process."""
        return None

    # Staff presence: an agent goes offline when all of its sockets stayed closed for
    # the grace period, counted over every process. One process knows its own sockets;
    # a bus that crosses processes shares the counts (``agent_connected_elsewhere``).

    def track_staff_sockets(self, counts: dict[int, int]) -> None:
        """``counts`` (agent id -> open sockets of this process) is kept up to date by the
        gateway; ``staff_sockets_changed`` is called after each change."""
        return None

    def staff_sockets_changed(self, agent_id: int) -> None:
        return None

    async def agent_connected_elsewhere(self, agent_id: int) -> bool:
        """Whether another process holds a socket of this agent (one process: never)."""
        return False

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class InProcessBus(Bus):
    async def publish(self, events: Sequence[Any]) -> None:
        if events:
            self._deliver(events)
