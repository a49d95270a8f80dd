"""Run ``supportdesk bench chat`` against a throwaway PostgreSQL on loopback.

.venv/bin/python benchmarks/chat_postgres.py --pairs 100 --pairs 1000

With ``--two-nodes`` a throwaway Redis is started too, and the same run adds two app
processes sharing PostgreSQL and Redis (customers on one, agents on the other):

.venv/bin/python benchmarks/chat_postgres.py --two-nodes --pairs 100
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import PostgresServer, RedisServer


def main() -> int:
    args = sys.argv[1:]
    two_nodes = "--two-nodes" in args
    args = [a for a in args if a != "--two-nodes"]
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(PostgresServer())
        url = server.create_database("bench")
        if two_nodes:
            redis = stack.enter_context(RedisServer())
            args = [*args, "--redis-url", redis.url]
        command = [
            sys.executable,
            "-m",
            "supportdesk",
            "bench",
            "chat",
            "--database-url",
            url,
            *args,
        ]
        return subprocess.call(command)


if __name__ == "__main__":
    raise SystemExit(main())
