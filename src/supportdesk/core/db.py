"""Database engines, sessions and the declarative base.

SQLite (the embedded default) allows one writer at a time. Rather than let
connections collide and retry on ``SQLITE_BUSY``, writes go through a one-connection
engine whose transactions start with ``BEGIN IMMEDIATE``; reads use a separate pool
with ordinary deferred transactions, which WAL mode lets run beside the writer.
On PostgreSQL both roles share one pool and row locks do the serialising.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, ClassVar, TypeVar

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column
from sqlalchemy.types import TypeDecorator

from supportdesk.core.clock import as_utc

T = TypeVar("T")

CONNECT_TIMEOUT_SECONDS = 5.0
COMMAND_TIMEOUT_SECONDS = 60.0  # no statement of ours runs near this; a dead server does
POOL_TIMEOUT_SECONDS = 10.0


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


BigId = BigInteger().with_variant(Integer, "sqlite")
JsonDoc = JSON().with_variant(JSONB(), "postgresql")

IdPK = Annotated[int, mapped_column(BigId, primary_key=True, autoincrement=True)]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JsonDoc,
    }


def _sqlite_pragmas(begin_statement: str) -> tuple[Any, Any]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (the driver's implicit BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=30000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    def on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin_statement)

    return on_connect, on_begin


class Database:
    """Owns the engines. ``write()`` and ``read()`` yield sessions in one transaction."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        self.is_sqlite = self.dialect == "sqlite"
        if self.is_sqlite:
            self.write_engine = self._sqlite_engine(url, "BEGIN IMMEDIATE", pool_size=1)
            self.read_engine = self._sqlite_engine(url, "BEGIN", pool_size=pool_size)
            # The hot path's batches run whole on one thread with a plain sqlite3
            # connection: one hop per batch instead of one per statement (see run_batch).
            self.batch_engine = self._sqlite_sync_engine("BEGIN IMMEDIATE", pool_size=1)
            self._batch_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-batch")
            self.sync_read_engine = self._sqlite_sync_engine("BEGIN", pool_size=4)
            self._read_threads = ThreadPoolExecutor(4, thread_name_prefix="sqlite-read")
        else:
            # Never hang on a database that is gone: a connection attempt, a statement
            # and a wait for a free pooled connection each give up after a bound, and
            # the API answers 503 with Retry-After (app.py). Pre-ping replaces the
            # pooled connections a PostgreSQL restart killed, so service resumes alone.
            self.write_engine = create_async_engine(
                url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
                pool_timeout=POOL_TIMEOUT_SECONDS,
                hide_parameters=True,
                connect_args=(
                    {"timeout": CONNECT_TIMEOUT_SECONDS, "command_timeout": COMMAND_TIMEOUT_SECONDS}
                    if self.url.get_driver_name() == "asyncpg"
                    else {}
                ),
            )
            self.read_engine = self.write_engine
        self._writer = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._reader = async_sessionmaker(self.read_engine, expire_on_commit=False)

    @staticmethod
    def _sqlite_engine(url: str, begin: str, *, pool_size: int) -> AsyncEngine:
        engine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=0,
            connect_args={"timeout": 30},
            hide_parameters=True,
        )
        on_connect, on_begin = _sqlite_pragmas(begin)
        event.listen(engine.sync_engine, "connect", on_connect)
        event.listen(engine.sync_engine, "begin", on_begin)
        return engine

    def _sqlite_sync_engine(self, begin: str, *, pool_size: int) -> Engine:
        """A plain ``sqlite3`` engine for work that runs whole on a dedicated thread."""
        engine = create_engine(
            self.url.set(drivername="sqlite"),
            pool_size=pool_size,
            max_overflow=0,
            connect_args={"timeout": 30, "check_same_thread": False},
            hide_parameters=True,
        )
        on_connect, on_begin = _sqlite_pragmas(begin)
        event.listen(engine, "connect", on_connect)
        event.listen(engine, "begin", on_begin)
        return engine

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: commits on success, rolls back on any exception."""
        async with self._writer() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reader() as session, session.begin():
            yield session

    async def run_batch(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in one write transaction and return its result.

        Under load each ``await`` on the database waits for a full turn of a busy event
        loop, so a batch of six statements took six turns. On SQLite the whole batch runs
        on a dedicated thread with a synchronous connection (one hop); on PostgreSQL it
        runs through ``run_sync`` on the async connection.
        """
        if self.is_sqlite:

            def in_thread() -> T:
                with Session(self.batch_engine, expire_on_commit=False) as session, session.begin():
                    return work(session)

            return await asyncio.get_running_loop().run_in_executor(self._batch_thread, in_thread)
        async with self.write() as session:
            return await session.run_sync(work)

    async def run_read(self, work: Callable[[Session], T]) -> T:
        """Like ``run_batch``, for a hot read (the socket catch-up): one hop on SQLite."""
        if self.is_sqlite:

            def in_thread() -> T:
                with Session(self.sync_read_engine) as session, session.begin():
                    return work(session)

            return await asyncio.get_running_loop().run_in_executor(self._read_threads, in_thread)
        async with self.read() as session:
            return await session.run_sync(work)

    async def dispose(self) -> None:
        if self.is_sqlite:
            self._batch_thread.shutdown(wait=True)
            self._read_threads.shutdown(wait=True)
            self.batch_engine.dispose()
            self.sync_read_engine.dispose()
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
