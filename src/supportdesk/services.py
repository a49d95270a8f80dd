"""The running service's shared parts, built once by the app's lifespan (or a test).

Actions receive this object instead of reaching for globals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from supportdesk.config import Settings
from supportdesk.core.clock import utcnow
from supportdesk.core.db import Database

if TYPE_CHECKING:
    from supportdesk.attachments.storage import ObjectLocks, Storage
    from supportdesk.conversations.timeline import TimelineWriter
    from supportdesk.core.outbox import OutboxRunner
    from supportdesk.core.periodic import PeriodicTask
    from supportdesk.identity.actions import IdentityCache
    from supportdesk.realtime.bus import Bus
    from supportdesk.realtime.gateway import Hub


@dataclass
class Services:
    settings: Settings
    db: Database
    bus: Bus
    identity_cache: IdentityCache
    # Serialises assignment runs in this process (PostgreSQL adds an advisory lock
    # across processes).
    assignment_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # "Now" for decisions that tests must be able to move without sleeping (account
    # access expiry); replace it on a running service to travel in time.
    clock: Callable[[], datetime] = utcnow
    writer: TimelineWriter = field(init=False)
    hub: Hub = field(init=False)
    access_sweeper: PeriodicTask = field(init=False)
    # Attachments: where their bytes are stored, the per-object locks that keep storing
    # and deleting the same content apart, and the orphan collector (a lifespan task).
    storage: Storage = field(init=False)
    object_locks: ObjectLocks = field(init=False)
    attachment_collector: PeriodicTask = field(init=False)
    # Runs the outbox's background jobs (mail ...); woken after commits that enqueue.
    outbox_runner: OutboxRunner = field(init=False)
