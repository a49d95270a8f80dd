"""Fixtures: a migrated database per test (SQLite file or a PostgreSQL database made
from a migrated template) and a live server on loopback that tests reach over real
HTTP and WebSocket.

``pytest`` runs on SQLite; ``pytest --db postgresql`` starts a throwaway PostgreSQL
cluster (tests/servers.py) and runs the same tests against it.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from supportdesk import migrate

from .factories import Live, start_live
from .servers import PostgresServer

TEMPLATE = "supportdesk_template"
_counter = itertools.count()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="database the API and end-to-end tests run against",
    )


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def postgres(db_kind: str) -> Iterator[PostgresServer | None]:
    if db_kind != "postgresql":
        yield None
        return
    with PostgresServer() as server:
        url = server.create_database(TEMPLATE)
        asyncio.run(migrate.upgrade(url))
        yield server


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory, db_kind: str) -> Path | None:
    if db_kind != "sqlite":
        return None
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(migrate.upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture
def database_url(
    tmp_path: Path, postgres: PostgresServer | None, sqlite_template: Path | None
) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    if postgres is not None:
        name = f"t{next(_counter)}"
        url = postgres.create_database(name, template=TEMPLATE)
        yield url
        postgres.drop_database(name)
        return
    assert sqlite_template is not None
    path = tmp_path / "supportdesk.db"
    shutil.copyfile(sqlite_template, path)
    yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def live(database_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    async with start_live(database_url, tmp_path) as server:
        yield server
