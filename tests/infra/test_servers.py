"""The throwaway-server helpers in tests/servers.py work on this machine.

These tests need the PostgreSQL binaries; `bash scripts/test` installs them
(scripts/install-system-deps).  They fail, rather than skip, when the
binaries are missing so that a broken CI image is noticed.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import socket
import tempfile
from collections.abc import Iterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.servers import PostgresServer, RedisServer, ServerError, find_pg_bin


def require_pg_bin() -> pathlib.Path:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.fail(
            "PostgreSQL binaries not found (no /usr/lib/postgresql/*/bin/initdb, "
            "pg_config or initdb on PATH). Run `bash scripts/install-system-deps` "
            "or set SUPPORTDESK_PG_BINDIR.",
            pytrace=False,
        )
    return bin_dir


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PostgresServer]:
    require_pg_bin()
    with PostgresServer() as server:
        yield server


def test_find_pg_bin_locates_the_server_binaries() -> None:
    bin_dir = require_pg_bin()
    for tool in ("initdb", "postgres", "createdb", "dropdb", "psql"):
        assert (bin_dir / tool).is_file(), f"{tool} missing from {bin_dir}"


def test_server_listens_on_loopback_with_test_settings(pg_server: PostgresServer) -> None:
    assert pg_server.running
    assert port_is_open(pg_server.port or 0)
    settings = pg_server.psql(
        "select name || '=' || setting from pg_settings where name in "
        "('listen_addresses', 'fsync', 'synchronous_commit', 'full_page_writes', "
        "'max_connections') order by name"
    ).split()
    assert settings == [
        "fsync=off",
        "full_page_writes=off",
        "listen_addresses=127.0.0.1",
        "max_connections=300",
        "synchronous_commit=off",
    ]


async def test_create_database_and_select_1_with_asyncpg(pg_server: PostgresServer) -> None:
    url = pg_server.create_database("servers_smoke")
    try:
        assert url == f"postgresql+asyncpg://postgres@127.0.0.1:{pg_server.port}/servers_smoke"
        assert url == pg_server.url_for("servers_smoke")
        conn = await asyncpg.connect(pg_server.dsn_for("servers_smoke"))
        try:
            assert await conn.fetchval("select 1") == 1
            assert await conn.fetchval("select current_database()") == "servers_smoke"
        finally:
            await conn.close()
    finally:
        pg_server.drop_database("servers_smoke")

    with pytest.raises(asyncpg.InvalidCatalogNameError):
        await asyncpg.connect(pg_server.dsn_for("servers_smoke"))


async def test_url_works_with_sqlalchemy_and_drop_disconnects(pg_server: PostgresServer) -> None:
    engine = create_async_engine(pg_server.create_database("servers_sqla"))
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("select 1"))).scalar_one() == 1
        # A pooled connection is still open: drop_database must not be blocked by it.
        pg_server.drop_database("servers_sqla")
    finally:
        await engine.dispose()
    pg_server.drop_database("servers_sqla")  # absent now: still no error


def test_create_database_from_template(pg_server: PostgresServer) -> None:
    pg_server.create_database("servers_tpl")
    try:
        pg_server.psql("create table t (x int); insert into t values (42)", "servers_tpl")
        pg_server.create_database("servers_copy", template="servers_tpl")
        try:
            assert pg_server.psql("select x from t", "servers_copy").strip() == "42"
        finally:
            pg_server.drop_database("servers_copy")
    finally:
        pg_server.drop_database("servers_tpl")


def test_database_names_are_validated(pg_server: PostgresServer) -> None:
    with pytest.raises(ValueError, match="not a plain database name"):
        pg_server.create_database("bad name; drop")


def test_stop_removes_the_data_dir_and_frees_the_port() -> None:
    require_pg_bin()
    # A root dir other than the system temp dir.  mkdtemp makes it 0700; when
    # the tests run as root the `postgres` user must be able to traverse it.
    with tempfile.TemporaryDirectory(prefix="servers-root-") as root:
        os.chmod(root, 0o755)
        server = PostgresServer(root=pathlib.Path(root))
        server.start()
        try:
            base, port = server.base_dir, server.port
            assert base.parent == pathlib.Path(root)
            assert (server.data_dir / "PG_VERSION").is_file()
            assert port is not None and port_is_open(port)
        finally:
            server.stop()
        assert not base.exists()
        assert pathlib.Path(root).is_dir()  # only our temp dir is removed
        assert not server.running
        assert not port_is_open(port)
        server.stop()  # idempotent
        with pytest.raises(ServerError, match="not started"):
            server.url_for("x")


def test_missing_binaries_give_a_clear_error(tmp_path: pathlib.Path) -> None:
    server = PostgresServer(bin_dir=tmp_path)
    with pytest.raises(ServerError, match="is missing; is PostgreSQL fully installed"):
        server.start()
    assert not server.running


@pytest.mark.skipif(
    shutil.which("redis-server") is None,
    reason="redis-server not installed: run scripts/install-system-deps",
)
def test_redis_server_starts_and_stops() -> None:
    with RedisServer() as redis:
        assert redis.url == f"redis://127.0.0.1:{redis.port}/0"
        with socket.create_connection(("127.0.0.1", redis.port or 0), timeout=5) as sock:
            sock.sendall(b"SET k v\r\nGET k\r\n")
            reply = b""
            while not reply.endswith(b"v\r\n"):
                chunk = sock.recv(64)
                assert chunk, f"connection closed early, got {reply!r}"
                reply += chunk
            assert reply == b"+OK\r\n$1\r\nv\r\n"
        base, port = redis.base_dir, redis.port
    assert not base.exists()
    assert port is not None and not port_is_open(port)
