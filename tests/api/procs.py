"""App server processes (real uvicorn subprocesses on loopback) sharing one PostgreSQL
and, optionally, one Redis: what the scale-out tests run against."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from supportdesk.app import build_services
from supportdesk.realtime.bus import InProcessBus
from supportdesk.staff.actions import do_create_agent
from tests.factories import PASSWORD, SECRET, Actor, Live, test_settings
from tests.servers import free_port

SERVE = (
    "import uvicorn, sys\n"
    "from supportdesk.app import create_app\n"
    "from supportdesk.config import get_settings\n"
    "uvicorn.run(create_app(get_settings()), host='127.0.0.1', port=int(sys.argv[1]),"
    " ws='websockets-sansio', log_level='warning')\n"
)


class AppProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(self.port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.log_path = log

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def server_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """The environment of a supportdesk subprocess (app server or worker) on the database."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "SUPPORTDESK_DATABASE_URL": database_url,
        "SUPPORTDESK_DATA_DIR": str(data_dir),
        "SUPPORTDESK_IDENTITY_SECRET": SECRET,
    }


@contextlib.asynccontextmanager
async def app_processes(
    count: int,
    database_url: str,
    data_dir: Path,
    *,
    processes: list[AppProcess] | None = None,
    **env_overrides: str,
) -> AsyncIterator[list[Live]]:
    """``count`` server processes on one database; each as a ``Live`` (app is None).
    ``processes``, when given, receives the ``AppProcess`` objects (to signal them)."""
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    env = {
        **server_env(database_url, data_dir),
        "SUPPORTDESK_PRESENCE_GRACE_SECONDS": "0.2",
        **env_overrides,
    }
    procs = [AppProcess(env, data_dir / f"server{i}.log") for i in range(count)]
    if processes is not None:
        processes.extend(procs)
    lives: list[Live] = []
    try:
        for proc in procs:
            await asyncio.to_thread(proc.wait_ready)
        settings = test_settings(database_url, data_dir)
        for proc in procs:
            http = httpx.AsyncClient(base_url=proc.base_url, timeout=30)
            lives.append(
                Live(settings, None, proc.base_url, proc.base_url.replace("http", "ws"), http)
            )
        yield lives
    finally:
        for live in lives:
            await live.http.aclose()
        for proc in procs:
            proc.stop()


async def create_agent(live: Live, name: str, roles: list[str], **kwargs: Any) -> Actor:
    """An agent created straight in the database, logged in and online via ``live``."""
    svc = build_services(live.settings, bus=InProcessBus())
    email = f"{name.lower()}@staff.test"
    try:
        await do_create_agent(
            svc, email=email, name=name, password=PASSWORD, roles=roles, languages=["en"], **kwargs
        )
    finally:
        await svc.db.dispose()
    response = await live.http.post(
        "/api/v1/staff/login", json={"email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    live.http.cookies.clear()
    actor = Actor(live, body["token"], body["agent_id"], name)
    assert (await actor.put("/api/v1/staff/me/presence", {"presence": "online"})).status_code == 200
    return actor


async def customer(live: Live, user: str = "u1") -> Actor:
    actor = Actor(live, live.token(portal="acme", user=user))
    me = (await actor.get("/api/v1/me")).json()
    actor.id, actor.name = me["id"], me["name"]
    return actor
