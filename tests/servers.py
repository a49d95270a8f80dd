"""Throwaway database servers for tests.

Tests that need a real PostgreSQL (or Redis) start their own server on
127.0.0.1 and a free port, in a temporary directory that is removed again on
``stop()``.  Nothing here touches a system-wide cluster or service, so the
suite runs the same on a developer laptop and on a brand-new CI machine
(``scripts/install-system-deps`` installs the binaries).

Typical use::

    with PostgresServer() as pg:
        url = pg.create_database("app")  # postgresql+asyncpg://postgres@127.0.0.1:PORT/app
        ...

Notes:

* PostgreSQL refuses to run as root.  When the tests run as root, ``initdb``
  and ``postgres`` run as the ``postgres`` system user (created by the Debian
  package) and the temporary directory is chowned to it.  The parent
  directory must then be traversable by that user: the system temp dir is,
  pytest's ``tmp_path`` (``/tmp/pytest-of-root``, mode 0700) is not.
* The cluster is tuned for tests only: ``fsync``, ``synchronous_commit`` and
  ``full_page_writes`` are off, so a crash loses data.  Authentication is
  ``trust``; the server listens on 127.0.0.1 only.
* ``PG*`` environment variables of the caller are not passed to the
  PostgreSQL binaries, so a developer's ``PGHOST``/``PGDATABASE`` cannot
  redirect the tests elsewhere.
* Set ``SUPPORTDESK_PG_BINDIR`` to use a specific PostgreSQL installation.
* Servers stop themselves at interpreter exit if a test forgot to; they share
  the test run's process group, so a signal that kills the run (Ctrl-C, a CI
  timeout) reaches them too.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pathlib
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from types import TracebackType
from typing import IO, Any, Self

__all__ = [
    "PostgresServer",
    "RedisServer",
    "ServerError",
    "find_pg_bin",
    "free_port",
]

HOST = "127.0.0.1"
PG_SUPERUSER = "postgres"
PG_OS_USER = "postgres"  # system user that runs PostgreSQL when we are root
START_TIMEOUT = 60.0  # seconds; generous for slow CI machines
STOP_TIMEOUT = 30.0
COMMAND_TIMEOUT = 60.0
START_ATTEMPTS = 3  # retries when another process grabs the chosen port
_UNIX_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux, 104 on macOS
_DB_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_PORT_IN_USE = ("Address already in use", "could not create any TCP/IP sockets")


class ServerError(RuntimeError):
    """A test server could not be started or managed."""


def free_port(host: str = HOST) -> int:
    """Return a TCP port on *host* that is free right now (bind to port 0).

    Another process may take it before we use it; callers retry on a bind
    failure.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _version_key(path: pathlib.Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,); unknown versions sort first.
    parts = re.findall(r"\d+", path.parent.name)
    return tuple(int(p) for p in parts) or (-1,)


def find_pg_bin() -> pathlib.Path | None:
    """Return a directory holding ``initdb``, ``postgres``, ``createdb`` etc.

    Looks, in order, at ``$SUPPORTDESK_PG_BINDIR``, the newest Debian/Ubuntu
    ``/usr/lib/postgresql/*/bin``, ``pg_config --bindir`` and ``initdb`` on
    ``PATH``.  Returns ``None`` when PostgreSQL is not installed.
    """
    override = os.environ.get("SUPPORTDESK_PG_BINDIR")
    if override:
        path = pathlib.Path(override)
        return path if (path / "initdb").is_file() else None

    debian = sorted(
        (p for p in pathlib.Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").is_file()),
        key=_version_key,
    )
    if debian:
        return debian[-1]

    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"],
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
                check=True,
            ).stdout.strip()
            if out and (pathlib.Path(out) / "initdb").is_file():
                return pathlib.Path(out)

    initdb = shutil.which("initdb")
    return pathlib.Path(initdb).parent if initdb else None


def _tail(path: pathlib.Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(log unavailable: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


def _stop_process(proc: subprocess.Popen[bytes], first_signal: int, timeout: float) -> None:
    """Send *first_signal*, then escalate to SIGKILL; always reap the process."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(first_signal)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
    else:
        proc.wait()


class _TempServer:
    """Shared plumbing: temp dir, log file, port retry, cleanup, context manager."""

    name = "server"

    def __init__(self, root: pathlib.Path | None = None) -> None:
        self.root = pathlib.Path(root) if root is not None else None
        self.port: int | None = None
        self._base: pathlib.Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    # -- public -----------------------------------------------------------

    @property
    def base_dir(self) -> pathlib.Path:
        """The temporary directory holding data, sockets and the log."""
        if self._base is None:
            raise ServerError(f"{self.name} is not started")
        return self._base

    @property
    def log_path(self) -> pathlib.Path:
        return self.base_dir / "server.log"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server log (for error messages)."""
        return _tail(self.log_path, lines) if self._base is not None else "(not started)"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        if self._base is not None:
            raise ServerError(f"{self.name} is already started")
        self._base = pathlib.Path(
            tempfile.mkdtemp(prefix=f"supportdesk-{self.name}-", dir=self.root)
        )
        atexit.register(self.stop)
        try:
            self._prepare()
            for attempt in range(1, START_ATTEMPTS + 1):
                self.port = free_port()
                self._launch()
                if self._wait_ready():
                    return
                # The process died.  Retry only if someone stole the port.
                assert self._proc is not None
                self._proc.wait()
                log = self.log_tail()
                if attempt == START_ATTEMPTS or not any(m in log for m in _PORT_IN_USE):
                    raise ServerError(
                        f"{self.name} exited with status {self._proc.returncode} while "
                        f"starting on {HOST}:{self.port}.\n--- server log (last lines) ---\n{log}"
                    )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (if running) and remove its directory.  Idempotent."""
        atexit.unregister(self.stop)
        try:
            if self._proc is not None:
                _stop_process(self._proc, self._stop_signal, STOP_TIMEOUT)
        finally:
            self._proc = None
            if self._log is not None:
                self._log.close()
                self._log = None
            if self._base is not None:
                shutil.rmtree(self._base, ignore_errors=True)
                self._base = None
            self.port = None

    def halt(self, sig: int = signal.SIGKILL) -> None:
        """Stop the process only (SIGKILL: a crash), keeping its data and port, so that
        ``restart()`` brings the same server back where clients expect it."""
        if self._proc is not None:
            _stop_process(self._proc, sig, STOP_TIMEOUT)

    def restart(self) -> None:
        """Start the halted server again on the port it had."""
        if self.running:
            raise ServerError(f"{self.name} is still running")
        self._launch()
        if not self._wait_ready():
            raise ServerError(f"{self.name} did not restart on {self.port}:\n{self.log_tail()}")

    # -- for subclasses -----------------------------------------------------

    _stop_signal: int = signal.SIGTERM

    def _prepare(self) -> None:
        """One-time setup in ``base_dir`` before the first launch."""

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _popen_kwargs(self) -> dict[str, Any]:
        return {}

    def _is_ready(self) -> bool:
        raise NotImplementedError

    def _launch(self) -> None:
        if self._log is None:
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._log.write(f"--- starting on port {self.port} ---\n".encode())
        self._log.flush()
        self._proc = subprocess.Popen(
            self._command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.base_dir,
            **self._popen_kwargs(),
        )

    def _wait_ready(self) -> bool:
        """True once the server accepts requests, False if it exited."""
        assert self._proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        delay = 0.02
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            if self._is_ready():
                return True
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)
        raise ServerError(
            f"{self.name} did not accept connections on {HOST}:{self.port} within "
            f"{START_TIMEOUT:.0f}s.\n--- server log (last lines) ---\n{self.log_tail()}"
        )


class PostgresServer(_TempServer):
    """A throwaway PostgreSQL cluster on 127.0.0.1 and a free port.

    ``root`` is the directory in which the temporary cluster directory is
    created (default: the system temp dir); the temporary directory itself is
    removed by :meth:`stop`.  ``bin_dir`` defaults to :func:`find_pg_bin`.

    Layout of :attr:`base_dir`: ``data/`` (the cluster), ``sock/`` (Unix
    socket), ``server.log``, ``initdb.log``.
    """

    name = "postgres"
    _stop_signal = signal.SIGINT  # "fast" shutdown: disconnect clients, then exit

    def __init__(
        self, root: pathlib.Path | None = None, *, bin_dir: pathlib.Path | None = None
    ) -> None:
        super().__init__(root)
        self._bin_dir = pathlib.Path(bin_dir) if bin_dir is not None else None
        self._sock_dir: pathlib.Path | None = None
        self._as_user: dict[str, Any] = {}

    # -- public -----------------------------------------------------------

    @property
    def bin_dir(self) -> pathlib.Path:
        if self._bin_dir is None:
            found = find_pg_bin()
            if found is None:
                raise ServerError(
                    "PostgreSQL binaries (initdb, postgres) not found. Install them with "
                    "`bash scripts/install-system-deps` (Debian package `postgresql`), "
                    "or set SUPPORTDESK_PG_BINDIR to the directory that holds initdb."
                )
            self._bin_dir = found
        return self._bin_dir

    @property
    def data_dir(self) -> pathlib.Path:
        return self.base_dir / "data"

    def url_for(self, name: str) -> str:
        """SQLAlchemy URL of database *name* (asyncpg driver, trust auth)."""
        return f"postgresql+asyncpg://{PG_SUPERUSER}@{HOST}:{self._port()}/{name}"

    def dsn_for(self, name: str) -> str:
        """libpq/asyncpg DSN of database *name* (for ``asyncpg.connect``)."""
        return f"postgresql://{PG_SUPERUSER}@{HOST}:{self._port()}/{name}"

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create database *name* (optionally as a copy of *template*); return its URL."""
        args = [_check_db_name(name)]
        if template is not None:
            args[:0] = ["--template", _check_db_name(template)]
        self._client("createdb", args)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop database *name*, disconnecting its sessions.  No error if absent."""
        self._client("dropdb", ["--if-exists", "--force", _check_db_name(name)])

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run *sql* with ``psql`` and return its unaligned, tuples-only output."""
        return self._client(
            "psql",
            ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql],
        )

    # -- internals ------------------------------------------------------------

    def _port(self) -> int:
        if self.port is None:
            raise ServerError("PostgresServer is not started")
        return self.port

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C", TZ="UTC")
        if self._as_user:
            env["HOME"] = str(self.base_dir)
            env["USER"] = env["LOGNAME"] = PG_OS_USER
        return env

    def _prepare(self) -> None:
        bin_dir = self.bin_dir
        for tool in ("initdb", "postgres", "createdb", "dropdb", "psql"):
            if not (bin_dir / tool).is_file():
                raise ServerError(f"{bin_dir / tool} is missing; is PostgreSQL fully installed?")

        base = self.base_dir
        if os.geteuid() == 0:
            self._become_postgres_user(base)

        sock = base / "sock"
        if len(str(sock / ".s.PGSQL.65535")) > _UNIX_SOCKET_PATH_MAX:
            sock = pathlib.Path(tempfile.mkdtemp(prefix="sd-pg-"))
            self._sock_dir = sock
        else:
            sock.mkdir()
        if self._as_user:
            os.chown(sock, self._as_user["user"], self._as_user["group"])

        initdb = [
            str(bin_dir / "initdb"),
            "--pgdata",
            str(self.data_dir),
            "--username",
            PG_SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ]
        initdb_log = base / "initdb.log"
        with open(initdb_log, "wb") as log:
            try:
                subprocess.run(
                    initdb,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=base,
                    env=self._env(),
                    timeout=START_TIMEOUT,
                    check=True,
                    **self._as_user,
                )
            except subprocess.SubprocessError as exc:
                raise ServerError(
                    f"initdb failed ({exc}).\n--- initdb output ---\n{_tail(initdb_log)}"
                ) from exc

    def _become_postgres_user(self, base: pathlib.Path) -> None:
        """As root: run PostgreSQL as the `postgres` user and give it *base*."""
        try:
            pw = pwd.getpwnam(PG_OS_USER)
        except KeyError:
            raise ServerError(
                f"Running as root, but there is no {PG_OS_USER!r} system user to run "
                "PostgreSQL as (PostgreSQL refuses to run as root). Install the Debian "
                "`postgresql` package or run the tests as a normal user."
            ) from None
        self._as_user = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        os.chown(base, pw.pw_uid, pw.pw_gid)
        # Every parent directory must be traversable by that user.
        probe = subprocess.run(
            ["test", "-w", str(base)],
            cwd="/",
            stdin=subprocess.DEVNULL,
            timeout=COMMAND_TIMEOUT,
            check=False,
            **self._as_user,
        )
        if probe.returncode != 0:
            raise ServerError(
                f"The {PG_OS_USER!r} user cannot write to {base}: a parent directory is "
                f"not accessible to it. Pass a root directory that is (e.g. under "
                f"{tempfile.gettempdir()}; pytest's tmp_path is mode 0700 when run as root)."
            )

    def _command(self) -> list[str]:
        assert self.port is not None
        sock = self._sock_dir or self.base_dir / "sock"
        settings = {
            "listen_addresses": HOST,
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "300",
        }
        cmd = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir)]
        cmd += ["-p", str(self.port), "-k", str(sock)]
        for key, value in settings.items():
            cmd += ["-c", f"{key}={value}"]
        return cmd

    def _popen_kwargs(self) -> dict[str, Any]:
        return {"env": self._env(), **self._as_user}

    def _is_ready(self) -> bool:
        # Like `pg_ctl start -w`: the postmaster writes "ready" as the 8th line
        # of postmaster.pid once it accepts connections (PostgreSQL 10+).  Unlike
        # pg_isready this cannot be fooled, or stalled, by another process that
        # took our port.
        assert self._proc is not None
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return (
            len(lines) >= 8
            and lines[0].strip() == str(self._proc.pid)
            and lines[7].strip() == "ready"
        )

    def _client(self, tool: str, args: Sequence[str]) -> str:
        cmd = [str(self.bin_dir / tool), "-h", HOST, "-p", str(self._port()), "-U", PG_SUPERUSER]
        result = subprocess.run(
            [*cmd, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=self._env(),
            cwd=self.base_dir,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            raise ServerError(
                f"{tool} {' '.join(args)} failed with status {result.returncode}:\n"
                f"{result.stderr.strip()}"
            )
        return result.stdout

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            if self._sock_dir is not None:
                shutil.rmtree(self._sock_dir, ignore_errors=True)
                self._sock_dir = None
            self._as_user = {}


def _check_db_name(name: str) -> str:
    if not _DB_NAME.fullmatch(name):
        raise ValueError(f"not a plain database name (letters, digits, _; max 63): {name!r}")
    return name


class RedisServer(_TempServer):
    """A throwaway Redis on 127.0.0.1 and a free port, without persistence.

    ``root`` and the context-manager protocol work as for :class:`PostgresServer`.
    """

    name = "redis"

    def __init__(self, root: pathlib.Path | None = None, *, binary: str | None = None) -> None:
        super().__init__(root)
        self._binary = binary

    @property
    def url(self) -> str:
        if self.port is None:
            raise ServerError("RedisServer is not started")
        return f"redis://{HOST}:{self.port}/0"

    def _prepare(self) -> None:
        binary = self._binary or shutil.which("redis-server")
        if binary is None:
            raise ServerError(
                "redis-server not found. Install it with `bash scripts/install-system-deps` "
                "(Debian package `redis-server`)."
            )
        self._binary = binary

    def _command(self) -> list[str]:
        assert self._binary is not None
        return [
            self._binary,
            *("--port", str(self.port), "--bind", HOST),
            *("--save", "", "--appendonly", "no"),
            *("--dir", str(self.base_dir), "--daemonize", "no"),
        ]

    def _is_ready(self) -> bool:
        assert self.port is not None
        try:
            with socket.create_connection((HOST, self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False
