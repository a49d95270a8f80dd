"""Supervisor reports over real HTTP, on the database under test: operations per day and
tier, CSAT per day, the CSV export and the SVG charts.

The conversations are made through the API (open, reply, transfer, resolve, rate); their
timestamps are then moved to fixed moments, so the durations and days are exact."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event, update

from supportdesk.conversations.models import Conversation, Rating
from supportdesk.core.clock import utcnow
from tests.factories import Actor, Live, key

T1, T2 = "customer_support", "technical_support"
SVG = "{http://www.w3.org/2000/svg}"
TODAY = utcnow().date()
YESTERDAY = TODAY - timedelta(days=1)
WINDOW = {
    "from": f"{YESTERDAY.isoformat()}T00:00:00Z",
    "to": f"{(TODAY + timedelta(days=1)).isoformat()}T00:00:00Z",
}


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


async def open_chat(live: Live, user: str, body: str) -> tuple[Actor, int]:
    customer = await live.customer(portal="acme", user=user)
    opened = await customer.post("/api/v1/conversations", {"body": body, "client_key": key()})
    assert opened.status_code == 201, opened.text
    return customer, opened.json()["conversation"]["id"]


async def reply(agent: Actor, conv_id: int, body: str) -> None:
    sent = await agent.post(
        f"/api/v1/conversations/{conv_id}/messages", {"body": body, "client_key": key()}
    )
    assert sent.status_code == 201, sent.text


async def move_times(live: Live, conv_id: int, **times: datetime | None) -> None:
    async with live.svc.db.write() as session:
        await session.execute(
            update(Conversation).where(Conversation.id == conv_id).values(**times)
        )


async def move_rating(live: Live, conv_id: int, rated_at: datetime) -> None:
    async with live.svc.db.write() as session:
        await session.execute(
            update(Rating).where(Rating.conversation_id == conv_id).values(created_at=rated_at)
        )


async def build(live: Live) -> dict[str, Any]:
    """Three conversations:
    A (today 09:00): tier 1 answers after 60 s, transfers; tier 2 resolves at 10:00; rated 5.
    B (today 11:00): tier 1 answers after 30 s and resolves at 11:10; rated 2, a rating
      then moved to yesterday for the daily split.
    C (yesterday 23:30): nobody answers.
    The agents' names are formula payloads, for the CSV."""
    tier1 = await live.agent("@SUM(1)", [T1])
    tier2 = await live.agent('=HYPERLINK("http://x")', [T2])
    supervisor = await live.agent("Sara", ["supervisor"], online=False)

    customer_a, conv_a = await open_chat(live, "a", "Export does nothing")
    await reply(tier1, conv_a, "Which browser?")
    transferred = await tier1.post(
        f"/api/v1/conversations/{conv_a}/transfer",
        {"to_tier": T2, "note": "Reproduced in Chrome"},
    )
    assert transferred.status_code == 200, transferred.text
    assert transferred.json()["assigned_agent"]["id"] == tier2.id
    await reply(tier2, conv_a, "Fixed.")
    assert (await tier2.post(f"/api/v1/conversations/{conv_a}/resolve")).status_code == 200
    rated = await customer_a.post(f"/api/v1/conversations/{conv_a}/rating", {"score": 5})
    assert rated.status_code == 201, rated.text

    customer_b, conv_b = await open_chat(live, "b", "How do I invite people?")
    await reply(tier1, conv_b, "Settings, then Team.")
    assert (await tier1.post(f"/api/v1/conversations/{conv_b}/resolve")).status_code == 200
    rated = await customer_b.post(f"/api/v1/conversations/{conv_b}/rating", {"score": 2})
    assert rated.status_code == 201, rated.text

    _, conv_c = await open_chat(live, "c", "Anyone there?")

    await move_times(
        live,
        conv_a,
        created_at=at(TODAY, 9),
        first_response_at=at(TODAY, 9, 1),
        resolved_at=at(TODAY, 10),
    )
    await move_rating(live, conv_a, at(TODAY, 10, 5))
    await move_times(
        live,
        conv_b,
        created_at=at(TODAY, 11),
        first_response_at=at(TODAY, 11, 0, 30),
        resolved_at=at(TODAY, 11, 10),
    )
    await move_rating(live, conv_b, at(YESTERDAY, 12))
    await move_times(live, conv_c, created_at=at(YESTERDAY, 23, 30), first_response_at=None)
    return {"tier1": tier1, "tier2": tier2, "supervisor": supervisor}


async def test_operations_per_day_and_tier(live: Live) -> None:
    people = await build(live)
    supervisor = people["supervisor"]
    response = await supervisor.get("/api/v1/reports/operations", params=WINDOW)
    assert response.status_code == 200, response.text
    rows = {(row["date"], row["tier"]): row for row in response.json()["rows"]}
    assert len(rows) == 4  # two days, two tiers

    today_t1 = rows[(TODAY.isoformat(), T1)]
    assert today_t1["opened"] == 2  # A and B both started at tier 1
    assert today_t1["first_response"] == {"count": 2, "median": 45.0, "p90": 57.0}
    assert today_t1["resolution"] == {"count": 2, "median": 2100.0, "p90": 3300.0}
    assert today_t1["transfers"] == 1 and today_t1["transfer_rate"] == 0.5

    today_t2 = rows[(TODAY.isoformat(), T2)]
    assert today_t2["opened"] == 1  # only A reached tier 2
    assert today_t2["first_response"] == {"count": 1, "median": 60.0, "p90": 60.0}
    assert today_t2["resolution"]["median"] == 3600.0
    assert today_t2["transfers"] == 0 and today_t2["transfer_rate"] == 0

    yesterday_t1 = rows[(YESTERDAY.isoformat(), T1)]
    assert yesterday_t1["opened"] == 1
    assert yesterday_t1["first_response"] == {"count": 0, "median": None, "p90": None}
    assert rows[(YESTERDAY.isoformat(), T2)]["opened"] == 0
    assert rows[(YESTERDAY.isoformat(), T2)]["transfer_rate"] is None

    only_t2 = await supervisor.get("/api/v1/reports/operations", params={**WINDOW, "tier": T2})
    assert {row["tier"] for row in only_t2.json()["rows"]} == {T2}
    today_only = await supervisor.get(
        "/api/v1/reports/operations",
        params={"from": TODAY.isoformat(), "to": (TODAY + timedelta(days=1)).isoformat()},
    )
    assert [(r["date"], r["tier"], r["opened"]) for r in today_only.json()["rows"]] == [
        (TODAY.isoformat(), T1, 2),
        (TODAY.isoformat(), T2, 1),
    ]


async def test_csat_daily_and_filters(live: Live) -> None:
    people = await build(live)
    supervisor, tier2 = people["supervisor"], people["tier2"]
    days = (await supervisor.get("/api/v1/reports/csat/daily", params=WINDOW)).json()["days"]
    assert days == [
        {"date": YESTERDAY.isoformat(), "count": 1, "average": 2.0},
        {"date": TODAY.isoformat(), "count": 1, "average": 5.0},
    ]
    by_tier = await supervisor.get("/api/v1/reports/csat/daily", params={**WINDOW, "tier": T2})
    assert [d["count"] for d in by_tier.json()["days"]] == [0, 1]
    by_agent = await supervisor.get(
        "/api/v1/reports/csat/daily", params={**WINDOW, "agent": tier2.id}
    )
    assert [d["average"] for d in by_agent.json()["days"]] == [None, 5.0]


async def test_reports_are_for_supervisors_and_refuse_bad_input(live: Live) -> None:
    people = await build(live)
    supervisor, tier1 = people["supervisor"], people["tier1"]
    customer = await live.customer(portal="acme", user="a")
    paths = [
        "/api/v1/reports/operations",
        "/api/v1/reports/csat/daily",
        "/api/v1/reports/csat.csv",
        "/api/v1/reports/charts/csat-distribution.svg",
        "/api/v1/reports/charts/csat-daily.svg",
        "/api/v1/reports/charts/operations.svg",
    ]
    for path in paths:
        assert (await tier1.get(path)).status_code == 403, path
        assert (await customer.get(path)).status_code == 403, path
        assert (await live.http.get(path)).status_code == 401, path
        for params, code in (
            ({"from": "yesterday"}, "invalid_request"),
            ({"from": "2025-02-30"}, "invalid_request"),
            ({"from": "2025-03-02", "to": "2025-03-01"}, "invalid_date_range"),
            ({"from": "2020-01-01", "to": "2025-01-01"}, "report_range_too_long"),
            ({"tier": "platinum"}, "unknown_tier"),
        ):
            refused = await supervisor.get(path, params=params)
            assert refused.status_code == 422, (path, params, refused.text)
            assert refused.json()["error"]["code"] == code
    bad_metric = await supervisor.get(paths[-1], params={"metric": "happiness"})
    assert bad_metric.status_code == 422


async def test_csat_csv_is_excel_ready_and_neutralises_formulas(live: Live) -> None:
    people = await build(live)
    supervisor = people["supervisor"]
    response = await supervisor.get("/api/v1/reports/csat.csv", params=WINDOW)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and ".csv" in disposition
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Agent ID", "Agent", "Tier", "Ratings", "Average score"]
    table = {row[1]: row for row in rows[1:]}
    assert set(table) == {"'@SUM(1)", '\'=HYPERLINK("http://x")'}
    assert table["'@SUM(1)"][2:] == ["Customer support", "2", "3.5"]
    assert table['\'=HYPERLINK("http://x")'][2:] == ["Technical support", "1", "5.0"]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for cell in r)

    japanese = await supervisor.get(
        "/api/v1/reports/csat.csv", params={**WINDOW, "tier": T2, "locale": "ja"}
    )
    rows = list(csv.reader(io.StringIO(japanese.content.decode("utf-8-sig"))))
    assert rows[0][1] == "担当者" and rows[1][2] == "テクニカルサポート"
    assert len(rows) == 2


def svg_of(response: Any) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    svg = ET.fromstring(response.text)
    assert svg.get("role") == "img" and svg.get("aria-label")
    assert svg.find(f"{SVG}title") is not None and svg.find(f"{SVG}desc") is not None
    assert "style=" not in response.text and "<script" not in response.text
    return svg


async def test_charts_show_the_ratings_and_metrics(live: Live) -> None:
    people = await build(live)
    supervisor = people["supervisor"]
    svg = svg_of(
        await supervisor.get("/api/v1/reports/charts/csat-distribution.svg", params=WINDOW)
    )
    bars = {g.get("data-label"): g for g in svg.iter(f"{SVG}g") if g.get("class") == "sd-bar"}
    assert bars["5"].get("data-value") == "1"
    assert bars["5"].find(f"{SVG}title").text == "Score 5, ratings: 1"
    assert bars["2"].find(f"{SVG}title").text == "Score 2, ratings: 1"
    assert bars["3"].get("data-value") == "0"

    ja = svg_of(
        await supervisor.get(
            "/api/v1/reports/charts/csat-distribution.svg", params={**WINDOW, "locale": "ja"}
        )
    )
    assert ja.get("aria-label") == "評価スコアの分布"
    assert "スコア 5: 1 件" in [t.text for t in ja.iter(f"{SVG}title")]

    daily = svg_of(await supervisor.get("/api/v1/reports/charts/csat-daily.svg", params=WINDOW))
    titles = [c.find(f"{SVG}title").text for c in daily.iter(f"{SVG}circle")]
    assert titles == [
        f"{YESTERDAY.isoformat()}: average 2.00 (ratings: 1)",
        f"{TODAY.isoformat()}: average 5.00 (ratings: 1)",
    ]

    opened = svg_of(
        await supervisor.get(
            "/api/v1/reports/charts/operations.svg", params={**WINDOW, "metric": "opened"}
        )
    )
    points = [c.find(f"{SVG}title").text for c in opened.iter(f"{SVG}circle")]
    assert f"{TODAY.isoformat()}, Customer support: 2" in points
    assert f"{TODAY.isoformat()}, Technical support: 1" in points

    first = svg_of(
        await supervisor.get(
            "/api/v1/reports/charts/operations.svg",
            params={**WINDOW, "metric": "first_response", "tier": T1},
        )
    )
    points = [c.find(f"{SVG}title").text for c in first.iter(f"{SVG}circle")]
    assert points == [
        f"{TODAY.isoformat()}, Customer support, median: 45 s",
        f"{TODAY.isoformat()}, Customer support, 90th percentile: 57 s",
    ]

    rate = svg_of(
        await supervisor.get(
            "/api/v1/reports/charts/operations.svg", params={**WINDOW, "metric": "transfer_rate"}
        )
    )
    points = [c.find(f"{SVG}title").text for c in rate.iter(f"{SVG}circle")]
    assert f"{TODAY.isoformat()}, Customer support: 50%" in points


async def test_reports_cost_a_fixed_number_of_queries(live: Live) -> None:
    people = await build(live)
    supervisor = people["supervisor"]
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = live.svc.db.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert (await supervisor.get("/api/v1/reports/operations", params=WINDOW)).is_success
        operations = [s for s in statements if "conversations" in s]
        statements.clear()
        assert (await supervisor.get("/api/v1/reports/csat/daily", params=WINDOW)).is_success
        ratings = [s for s in statements if "ratings" in s]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    # Conversations, then their transfers: one query each, however many rows.
    assert len(operations) == 2, operations
    assert len(ratings) == 1, ratings
