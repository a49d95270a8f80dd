"""Fixtures of the scale-out tests (several app processes on one database)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from supportdesk import migrate
from tests.conftest import TEMPLATE
from tests.servers import PostgresServer


@pytest.fixture
def pg_database(postgres: PostgresServer | None) -> Iterator[str]:
    """A migrated PostgreSQL database: the session's cluster under ``--db postgresql``,
    otherwise a cluster of this test's own (these tests need a real server either way)."""
    if postgres is not None:
        yield postgres.create_database("scaleout", template=TEMPLATE)
        postgres.drop_database("scaleout")
        return
    with PostgresServer() as server:
        url = server.create_database("scaleout")
        asyncio.run(migrate.upgrade(url))
        yield url
