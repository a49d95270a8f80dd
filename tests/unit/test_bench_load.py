"""Benchmark plumbing: frame parsing, percentiles and exact merging of per-process results.

No assertions on speed: these must pass on a loaded CI box. Only the last two tests touch
sockets (one relay subprocess on 127.0.0.1, sub-second runs), to prove the pieces fit.
"""

from __future__ import annotations

import asyncio
import math
import pickle
from array import array
from collections import Counter
from collections.abc import Iterator

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from supportdesk.bench import load
from supportdesk.bench.load import (
    BenchResult,
    PairEndpoints,
    RawStats,
    RelayProtocol,
    SupportdeskProtocol,
    format_report,
    merge_stats,
    percentile,
    run_closed_loop,
    summarize,
)
from supportdesk.bench.relay import RelayProcess, start_relay_server

PAIR = PairEndpoints("ws://127.0.0.1:1/c", "ws://127.0.0.1:1/a", conversation_id=42)


def item_frame(author_type: str, body: str, kind: str = "message") -> str:
    frame = {
        "type": "item",
        "conversation_id": 42,
        "item": {"seq": 7, "kind": kind, "body": body, "author": {"type": author_type, "id": 3}},
    }
    return orjson.dumps(frame).decode()


# ---------------------------------------------------------------- protocols


def test_supportdesk_send_frame_shape() -> None:
    proto = SupportdeskProtocol()
    first = orjson.loads(proto.send_frame(PAIR, "customer", 0, "0:0:customer"))
    second = orjson.loads(proto.send_frame(PAIR, "customer", 1, "0:1:customer"))
    assert first["type"] == "message.send"
    assert first["conversation_id"] == 42
    assert first["body"] == "0:0:customer"
    assert len(first["client_key"]) == 32
    assert first["client_key"] != second["client_key"]


@pytest.mark.parametrize(("receiver", "author"), [("agent", "customer"), ("customer", "agent")])
def test_supportdesk_recognises_the_other_sides_item(receiver: str, author: str) -> None:
    assert SupportdeskProtocol().delivered_token(item_frame(author, "tok"), receiver) == "tok"


@pytest.mark.parametrize("receiver", ["agent", "customer"])
def test_supportdesk_ignores_own_echo(receiver: str) -> None:
    assert SupportdeskProtocol().delivered_token(item_frame(receiver, "tok"), receiver) is None


@pytest.mark.parametrize(
    "frame",
    [
        '{"type":"ack","conversation_id":42,"client_key":"k","seq":7}',
        '{"type":"hello","user":{"id":1}}',
        '{"type":"conversation","conversation":{"id":42}}',
        '{"type":"queue","waiting":3}',
        '{"type":"typing","conversation_id":42,"author":{"type":"customer"}}',
        '{"type":"pong"}',
        item_frame("customer", "tok", kind="note"),
        item_frame("system", "tok"),
        '{"type":"item","item":{"kind":"message","body":"tok"}}',
        '{"type":"item","item":{"kind":"message","body":5,"author":{"type":"customer"}}}',
        '{"type":"item","item":"oops"}',
        "[1, 2]",
        "not json",
        "",
    ],
)
def test_supportdesk_ignores_everything_else(frame: str) -> None:
    assert SupportdeskProtocol().delivered_token(frame, "agent") is None


def test_relay_protocol_is_verbatim() -> None:
    proto = RelayProtocol()
    frame = proto.send_frame(PairEndpoints("a", "b", None), "agent", 3, "1:3:agent")
    assert frame == "1:3:agent"
    assert proto.delivered_token(frame, "customer") == "1:3:agent"


def test_protocols_and_jobs_survive_pickling_for_spawned_processes() -> None:
    job = load._Job([(0, PAIR)], SupportdeskProtocol(), 1.0, 0.5, 2.0, 10)
    clone = pickle.loads(pickle.dumps(job))
    assert clone.indexed == [(0, PAIR)]
    assert clone.protocol.delivered_token(item_frame("agent", "x"), "customer") == "x"


# ---------------------------------------------------------------- statistics


def test_percentile_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile(values, 0) == 1
    assert percentile([10, 20, 30, 40], 50) == 20
    assert percentile([10, 20, 30, 40], 51) == 30
    assert percentile([5], 99) == 5


def test_percentile_edge_cases() -> None:
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_summarize_converts_ns_to_ms_and_rate() -> None:
    stats = RawStats(pairs=2, samples_ns=array("q", [3_000_000, 1_000_000, 2_000_000]))
    result = summarize(stats, seconds=2.0)
    assert result.deliveries == 3
    assert result.msgs_per_s == 1.5
    assert result.p50_ms == 2.0
    assert result.max_ms == 3.0
    assert result.errors == 0


def test_summarize_empty_run() -> None:
    result = summarize(RawStats(pairs=1, errors=Counter(timeout=2)), seconds=1.0)
    assert result.deliveries == 0
    assert result.msgs_per_s == 0.0
    assert math.isnan(result.p99_ms)
    assert result.errors == 2


def test_merge_is_exact_not_an_average_of_percentiles() -> None:
    # process A is fast, process B is slow: the merged p50 must come from the pooled samples
    a = RawStats(pairs=1, samples_ns=array("q", [1, 1, 1]), errors=Counter(timeout=1))
    b = RawStats(pairs=3, samples_ns=array("q", [100, 100]), errors=Counter(timeout=2, closed=1))
    merged = merge_stats([a, b])
    assert merged.pairs == 4
    assert sorted(merged.samples_ns) == [1, 1, 1, 100, 100]
    assert merged.errors == Counter(timeout=3, closed=1)
    pooled = summarize(merged, 1.0)
    assert pooled.deliveries == 5
    assert pooled.p50_ms == 1 / 1e6
    assert pooled.p99_ms == 100 / 1e6
    assert pooled.errors == 4
    assert pooled.error_kinds == {"timeout": 3, "closed": 1}
    assert len(merge_stats([]).samples_ns) == 0


def test_format_report_shows_share_of_baseline() -> None:
    def result(rate: float) -> BenchResult:
        return BenchResult(100, int(rate * 10), 10.0, rate, 1.0, 2.0, 3.0, 0)

    text = format_report({"relay": result(20_000), "supportdesk": result(5_000)}, "relay")
    lines = text.splitlines()
    assert "msgs/s" in lines[0] and "p50" in lines[0] and "p99" in lines[0]
    assert lines[2].startswith("relay") and lines[2].endswith("100.0%")
    assert lines[3].startswith("supportdesk") and lines[3].endswith("25.0%")


# ---------------------------------------------------------------- the pieces fit together


@pytest.fixture(scope="module")
def relay() -> Iterator[RelayProcess]:
    with start_relay_server() as server:
        yield server


async def test_relay_forwards_within_a_pair_only(relay: RelayProcess) -> None:
    def open_side(pair: int, role: str) -> connect:
        return connect(relay.url(pair, role), compression=None, proxy=None, open_timeout=10)

    async with (
        open_side(100, "customer") as customer,
        open_side(100, "agent") as agent,
        open_side(101, "agent") as stranger,
    ):
        await customer.send("hello agent")
        assert await asyncio.wait_for(agent.recv(), 10) == "hello agent"
        await agent.send("hello customer")
        assert await asyncio.wait_for(customer.recv(), 10) == "hello customer"
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(stranger.recv(), 0.05)
    with pytest.raises(InvalidStatus):
        async with open_side(100, "boss"):
            pass


async def test_closed_loop_against_real_relay_with_two_processes(relay: RelayProcess) -> None:
    result = await run_closed_loop(
        relay.pairs(4), RelayProtocol(), duration_s=0.5, warmup_s=0.1, processes=2
    )
    assert result.pairs == 4
    assert result.errors == 0, result.error_kinds
    assert result.deliveries > 0
    assert result.p50_ms <= result.p99_ms <= result.max_ms
