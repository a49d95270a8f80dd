"""A live server on loopback, and helpers to act as customers and agents over HTTP."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from supportdesk.app import create_app
from supportdesk.config import Settings
from supportdesk.core.clock import utcnow
from supportdesk.identity.tokens import mint_identity_token
from supportdesk.services import Services
from supportdesk.staff.actions import do_create_agent

from .servers import free_port

SECRET = "test-identity-secret-0123456789abcdef"
PASSWORD = "correct horse battery"


def key() -> str:
    return uuid.uuid4().hex


@dataclass
class Actor:
    """Someone calling the API: a customer (identity token) or an agent (session)."""

    live: Live
    token: str
    id: int = 0
    name: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.live.http.get(path, headers=self.headers, **kwargs)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.live.http.post(path, json=json, headers=self.headers, **kwargs)

    async def put(self, path: str, json: Any = None) -> httpx.Response:
        return await self.live.http.put(path, json=json, headers=self.headers)

    async def delete(self, path: str) -> httpx.Response:
        return await self.live.http.delete(path, headers=self.headers)

    @asynccontextmanager
    async def socket(self) -> AsyncIterator[Socket]:
        async with connect(
            f"{self.live.ws_url}/api/v1/stream?token={self.token}", compression=None
        ) as ws:
            sock = Socket(ws)
            hello = await sock.next()
            assert hello["type"] == "hello"
            yield sock


@dataclass
class Socket:
    ws: ClientConnection
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(orjson.dumps(frame).decode())

    async def next(self, timeout: float = 10) -> dict[str, Any]:
        frame = orjson.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.seen.append(frame)
        return frame

    async def wait_for(self, predicate: Any, timeout: float = 10) -> dict[str, Any]:
        """The next frame matching ``predicate`` (frames before it are kept in ``seen``)."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.next(timeout)
                if predicate(frame):
                    return frame

    async def wait_item(
        self, conversation_id: int, predicate: Any = lambda item: True, timeout: float = 10
    ) -> dict[str, Any]:
        frame = await self.wait_for(
            lambda f: (
                f["type"] == "item"
                and f["conversation_id"] == conversation_id
                and predicate(f["item"])
            ),
            timeout,
        )
        return frame["item"]


@dataclass
class Live:
    settings: Settings
    app: Any
    base_url: str
    ws_url: str
    http: httpx.AsyncClient

    @property
    def svc(self) -> Services:
        services: Services = self.app.state.services
        return services

    def token(
        self,
        portal: str = "acme",
        user: str = "u1",
        role: str = "admin",
        plan: str = "professional",
        locale: str = "en",
        name: str = "",
    ) -> str:
        return mint_identity_token(
            self.settings,
            portal=portal,
            user=user,
            role=role,
            plan=plan,
            locale=locale,
            name=name or user,
            now=utcnow(),
        )

    async def customer(
        self,
        portal: str = "acme",
        user: str = "u1",
        role: str = "admin",
        plan: str = "professional",
        locale: str = "en",
    ) -> Actor:
        actor = Actor(self, self.token(portal, user, role, plan, locale))
        me = (await actor.get("/api/v1/me")).json()
        actor.id, actor.name = me["id"], me["name"]
        return actor

    async def agent(
        self,
        name: str,
        roles: list[str],
        languages: tuple[str, ...] = ("en", "ja"),
        max_chats: int = 5,
        online: bool = True,
    ) -> Actor:
        email = f"{name.lower().replace(' ', '.')}@staff.test"
        await do_create_agent(
            self.svc,
            email=email,
            name=name,
            password=PASSWORD,
            roles=roles,
            languages=list(languages),
            max_chats=max_chats,
        )
        response = await self.http.post(
            "/api/v1/staff/login", json={"email": email, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        actor = Actor(self, body["token"], body["agent_id"], name)
        self.http.cookies.clear()  # agents here authenticate with Bearer tokens
        if online:
            assert (
                await actor.put("/api/v1/staff/me/presence", {"presence": "online"})
            ).status_code == 200
        return actor


def test_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        identity_secret=SECRET,
        presence_grace_seconds=0.2,
        **overrides,
    )


@asynccontextmanager
async def start_live(database_url: str, data_dir: Path, **overrides: Any) -> AsyncIterator[Live]:
    settings = test_settings(database_url, data_dir, **overrides)
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, ws="websockets-sansio", log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(20):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        try:
            yield Live(settings, app, base, f"ws://127.0.0.1:{port}", http)
        finally:
            server.should_exit = True
            await task
