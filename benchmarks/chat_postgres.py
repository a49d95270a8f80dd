"""Run ``supportdesk bench chat`` against a throwaway PostgreSQL on loopback.

.venv/bin/python benchmarks/chat_postgres.py --pairs 100 --pairs 1000
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import PostgresServer


def main() -> int:
    with PostgresServer() as server:
        url = server.create_database("bench")
        command = [
            sys.executable,
            "-m",
            "supportdesk",
            "bench",
            "chat",
            "--database-url",
            url,
            *sys.argv[1:],
        ]
        return subprocess.call(command)


if __name__ == "__main__":
    raise SystemExit(main())
