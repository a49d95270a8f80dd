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

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class InProcessBus(Bus):
    async def publish(self, events: Sequence[Any]) -> None:
        if events:
            self._deliver(events)
