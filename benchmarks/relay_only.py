"""Run the bare-relay ceiling alone: validates the load generator and picks client ``processes``.

    PYTHONPATH=src .venv/bin/python benchmarks/relay_only.py [--duration 10] [--warmup 2]
        [--pairs 100 1000] [--processes 1 2] [--repeat 1]

Starts a fresh relay server process per run (no leftover sockets), runs the closed loop against
it and prints one table per pair count; the % column compares with the table's first row.

On a shared 2-core box anything else running steals CPU from the server or the client and the
figures drop with it, so each run also prints where the CPU went: relay server, load generator
and "other" (everything else on the machine, from /proc/stat). Trust runs where "other" is small.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
from pathlib import Path

try:
    import supportdesk  # noqa: F401
except ImportError:  # running from a checkout without an editable install
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from supportdesk.bench.load import (
    BenchResult,
    RelayProtocol,
    format_report,
    new_event_loop,
    run_closed_loop,
)
from supportdesk.bench.relay import start_relay_server

_TICK = os.sysconf("SC_CLK_TCK")


def _machine_busy_s() -> float:
    """CPU seconds spent not idle, summed over all cores (Linux /proc/stat)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / _TICK  # minus idle and iowait


def _process_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def _own_cpu_s() -> float:
    """This process plus reaped children (spawned client processes are joined, hence reaped)."""
    return sum(
        r.ru_utime + r.ru_stime
        for r in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )


async def measure(
    pairs: int, processes: int, duration_s: float, warmup_s: float, ws_impl: str
) -> tuple[BenchResult, str]:
    with start_relay_server(ws_impl=ws_impl) as relay:
        server0, client0, busy0 = _process_cpu_s(relay.proc.pid), _own_cpu_s(), _machine_busy_s()
        t0 = time.monotonic()
        result = await run_closed_loop(
            relay.pairs(pairs), RelayProtocol(), duration_s, warmup_s, processes=processes
        )
        wall = time.monotonic() - t0
        server = _process_cpu_s(relay.proc.pid) - server0
        client = _own_cpu_s() - client0
        other = _machine_busy_s() - busy0 - server - client
    cpu = (
        f"wall {wall:5.1f}s  cpu: server {server:5.1f}s  client {client:5.1f}s  other {other:5.1f}s"
    )
    return result, cpu


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--pairs", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration, interleaved")
    parser.add_argument("--ws", default="websockets-sansio", help="uvicorn --ws implementation")
    args = parser.parse_args()
    for n in args.pairs:
        results: dict[str, BenchResult] = {}
        for rep in range(1, args.repeat + 1):
            for procs in args.processes:
                key = f"relay n={n} procs={procs}" + (f" #{rep}" if args.repeat > 1 else "")
                results[key], cpu = await measure(n, procs, args.duration, args.warmup, args.ws)
                print(f"{key:<28} {cpu}", flush=True)
        print(format_report(results, baseline_key=next(iter(results))), flush=True)
        print(flush=True)


if __name__ == "__main__":
    with asyncio.Runner(loop_factory=new_event_loop) as runner:  # uvloop, like spawned clients
        runner.run(main())
