"""Run ``supportdesk bench kb`` against a throwaway PostgreSQL on loopback.

.venv/bin/python benchmarks/kb_postgres.py --articles 100000
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
        command = [sys.executable, "-m", "supportdesk", "bench", "kb", "--database-url", url]
        return subprocess.call([*command, *sys.argv[1:]])


if __name__ == "__main__":
    raise SystemExit(main())
