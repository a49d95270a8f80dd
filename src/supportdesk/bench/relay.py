"""Bare Starlette WebSocket relay: the ceiling that ``supportdesk bench chat`` compares against.

The relay does the minimum a chat server must do to deliver a message -- accept two sockets per
pair and forward each text frame to the other side -- with no FastAPI, no auth, no database and no
fan-out. Whatever the real server achieves as a fraction of this relay (run on the same machine,
same uvicorn settings, same load generator, same benchmark run) is the cost of our application
code, independent of how fast the machine happens to be.

The server runs in a separate process (:func:`start_relay_server`) so that it gets its own GIL and
event loop, exactly like the real server does.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

if TYPE_CHECKING:
    from supportdesk.bench.load import PairEndpoints

_OTHER_SIDE = {"customer": "agent", "agent": "customer"}

# (pair, role) -> open socket. Module global because the relay app runs alone in its own process.
_peers: dict[tuple[int, str], WebSocket] = {}


async def relay_endpoint(websocket: WebSocket) -> None:
    """Forward every text frame verbatim to the other side of the same pair.

    The socket is registered *before* ``accept()`` so that, once a client's handshake completes,
    a frame sent by its peer can already find it (no connect/first-message race). A frame whose
    peer is not connected is dropped; the load generator then reports a timeout.
    """
    try:
        pair = int(websocket.query_params["pair"])
        role = websocket.query_params["role"]
        other = _OTHER_SIDE[role]
    except (KeyError, ValueError):
        await websocket.close(code=1008)
        return
    key = (pair, role)
    _peers[key] = websocket
    try:
        await websocket.accept()
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                continue  # binary frames are not part of the protocol
            peer = _peers.get((pair, other))
            if peer is None:
                continue
            # the peer may leave between lookup and send; its own handler cleans up
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await peer.send_text(text)
    finally:
        if _peers.get(key) is websocket:
            del _peers[key]


app = Starlette(routes=[WebSocketRoute("/relay", relay_endpoint)])


def relay_url(port: int, pair: int, role: str, host: str = "127.0.0.1") -> str:
    """ws:// URL for one side of one pair on a relay listening on ``host:port``."""
    return f"ws://{host}:{port}/relay?pair={pair}&role={role}"


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for a currently unused TCP port on ``host``.

    There is a small window before the server binds it; good enough for a local benchmark.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def raise_fd_limit(wanted: int = 65536) -> int:
    """Raise the soft open-files limit towards ``wanted`` (capped by the hard limit).

    1000 pairs means 2000 client sockets plus 2000 server sockets; the common default soft limit
    of 1024 would fail. Child processes (the relay server, spawned clients) inherit the limit.
    Returns the resulting soft limit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return int(soft)


def wait_until_accepting(
    host: str, port: int, proc: subprocess.Popen[bytes], timeout_s: float
) -> None:
    """Poll (bounded) until ``host:port`` accepts TCP connections; fail fast if ``proc`` dies."""
    deadline = time.monotonic() + timeout_s
    for _ in range(int(timeout_s / 0.05) + 1):
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            pass
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    raise TimeoutError(f"server did not accept connections on {host}:{port} in {timeout_s}s")


@dataclass
class RelayProcess:
    """A relay server running as a child process; use as a context manager or call ``stop()``."""

    host: str
    port: int
    proc: subprocess.Popen[bytes] = field(repr=False)

    def url(self, pair: int, role: str) -> str:
        return relay_url(self.port, pair, role, self.host)

    def pairs(self, n: int) -> list[PairEndpoints]:
        """Endpoints for pairs ``0..n-1``, ready for ``load.run_closed_loop``."""
        from supportdesk.bench.load import PairEndpoints

        return [
            PairEndpoints(self.url(i, "customer"), self.url(i, "agent"), conversation_id=None)
            for i in range(n)
        ]

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM (uvicorn shuts down gracefully), then SIGKILL if it has not exited in time."""
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout_s)

    def __enter__(self) -> RelayProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_relay_server(
    port: int | None = None,
    *,
    host: str = "127.0.0.1",
    ws_impl: str = "websockets-sansio",
    startup_timeout_s: float = 20.0,
) -> RelayProcess:
    """Launch ``uvicorn supportdesk.bench.relay:app`` in a subprocess and wait until it listens.

    Uses the same uvicorn flavour as the real server (one worker, uvloop/httptools when
    installed, the given WebSocket implementation) so that the comparison isolates app cost.
    """
    port = port if port is not None else free_port(host)
    raise_fd_limit()  # inherited by the child
    # put src/ on the child's path so this works without the package being installed
    src_dir = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src_dir, env.get("PYTHONPATH")) if p)
    cmd = [
        sys.executable, "-m", "uvicorn", "supportdesk.bench.relay:app",
        "--host", host, "--port", str(port),
        "--ws", ws_impl,
        "--log-level", "warning",
        "--no-access-log",
        "--backlog", "4096",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)
    try:
        wait_until_accepting(host, port, proc, startup_timeout_s)
    except BaseException:
        relay = RelayProcess(host, port, proc)
        relay.stop()
        raise
    return RelayProcess(host, port, proc)
