"""Report computations: windows, percentiles, per-tier attribution, CSV safety, SVG."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest

from supportdesk.core.errors import DomainError
from supportdesk.reports import charts
from supportdesk.reports.rules import (
    ConversationTimes,
    Transfer,
    csat_days,
    csv_text,
    neutralise_cell,
    operations_rows,
    percentile,
    report_window,
    tier_path,
)

pytestmark = pytest.mark.unit

T1, T2 = "customer_support", "technical_support"
NOW = datetime(2025, 3, 10, 15, 30, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


# --- windows ---------------------------------------------------------------------------


def test_default_window_is_the_last_30_days_through_today() -> None:
    window = report_window(None, None, NOW)
    assert window.end == datetime(2025, 3, 11, tzinfo=UTC)
    assert window.start == datetime(2025, 2, 9, tzinfo=UTC)
    assert window.days[0] == date(2025, 2, 9) and window.days[-1] == date(2025, 3, 10)
    assert len(window.days) == 30


def test_window_end_is_exclusive_and_naive_means_utc() -> None:
    window = report_window(datetime(2025, 3, 1), datetime(2025, 3, 3), NOW)
    assert window.start.tzinfo is not None
    assert window.days == [date(2025, 3, 1), date(2025, 3, 2)]


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (at(5), at(5), "invalid_date_range"),
        (at(6), at(5), "invalid_date_range"),
        (at(1) - timedelta(days=400), at(1), "report_range_too_long"),
    ],
)
def test_bad_windows_are_refused(start: datetime, end: datetime, code: str) -> None:
    with pytest.raises(DomainError) as refused:
        report_window(start, end, NOW)
    assert (refused.value.code, refused.value.status) == (code, 422)


# --- percentiles -----------------------------------------------------------------------


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7], 0.9) == 7
    assert percentile([10, 20], 0.5) == 15
    assert percentile([40, 10, 30, 20], 0.5) == 25
    assert percentile([10, 20], 0.9) == pytest.approx(19)
    assert percentile(list(range(1, 11)), 0.9) == pytest.approx(9.1)


# --- tiers -----------------------------------------------------------------------------


def test_a_conversation_belongs_to_every_tier_it_reached() -> None:
    assert tier_path(T1, []).reached == {T1}
    path = tier_path(T2, [Transfer(1, T1, T2)])
    assert path.reached == {T1, T2} and path.transferred_from == {T1}
    back = tier_path(T1, [Transfer(1, T1, T2), Transfer(1, T2, T1)])
    assert back.reached == {T1, T2} and back.transferred_from == {T1, T2}


def test_operations_rows_per_day_and_tier() -> None:
    conversations = [
        # Day 1: answered after 60 s, resolved after 600 s at tier 1.
        ConversationTimes(1, T1, at(1), at(1, 9, 1), at(1, 9, 10)),
        # Day 1: transferred; answered after 120 s, resolved after 3600 s.
        ConversationTimes(2, T2, at(1, 10), at(1, 10, 2), at(1, 11)),
        # Day 1: never answered.
        ConversationTimes(3, T1, at(1, 23, 59), None, None),
        # Day 3: answered after 30 s, open.
        ConversationTimes(4, T1, at(3), at(3, 9, 0) + timedelta(seconds=30), None),
    ]
    transfers = [Transfer(2, T1, T2)]
    days = [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)]
    rows = {(r.day, r.tier): r for r in operations_rows(conversations, transfers, days, [T1, T2])}
    assert len(rows) == 6  # every day and tier, zeros included

    day1_t1 = rows[(date(2025, 3, 1), T1)]
    assert day1_t1.opened == 3
    assert day1_t1.first_response.count == 2
    assert day1_t1.first_response.median == 90 and day1_t1.first_response.p90 == 114
    assert day1_t1.resolution.median == 2100
    assert day1_t1.transfers == 1 and day1_t1.transfer_rate == pytest.approx(0.3333)

    day1_t2 = rows[(date(2025, 3, 1), T2)]
    assert (day1_t2.opened, day1_t2.transfers, day1_t2.transfer_rate) == (1, 0, 0)
    assert day1_t2.first_response.median == 120 and day1_t2.resolution.p90 == 3600

    empty = rows[(date(2025, 3, 2), T1)]
    assert empty.opened == 0 and empty.transfer_rate is None and empty.first_response.median is None
    assert rows[(date(2025, 3, 3), T1)].first_response.median == 30


def test_operations_rows_for_one_tier_only() -> None:
    conversations = [ConversationTimes(1, T1, at(1), None, None)]
    rows = operations_rows(conversations, [], [date(2025, 3, 1)], [T2])
    assert [(r.tier, r.opened) for r in rows] == [(T2, 0)]


def test_csat_days_count_and_average_per_utc_day() -> None:
    ratings = [(at(1, 1), 5), (at(1, 23), 2), (at(3), 4)]
    days = csat_days(ratings, [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)])
    assert [(d.count, d.average) for d in days] == [(2, 3.5), (0, None), (1, 4)]


# --- CSV -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("@SUM(1)", "'@SUM(1)"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("\tx", "'\tx"),
        ("\r=1", "'\r=1"),
        ("田中 =1", "田中 =1"),
        ("Aiko", "Aiko"),
        (4.5, "4.5"),
        (None, ""),
    ],
)
def test_neutralise_cell(cell: object, shown: str) -> None:
    assert neutralise_cell(cell) == shown


def test_csv_text_quotes_and_neutralises_every_cell() -> None:
    text = csv_text(["Agent", "=bad header"], [['=HYPERLINK("http://x")', 3], ["@SUM(1)", 4.5]])
    assert text.splitlines()[0] == '"Agent","\'=bad header"'
    assert '"\'=HYPERLINK(""http://x"")","3"' in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ['\'=HYPERLINK("http://x")', "3"]
    assert rows[2] == ["'@SUM(1)", "4.5"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


# --- SVG -------------------------------------------------------------------------------


def frame(title: str = "Ratings") -> charts.Frame:
    return charts.Frame("c1", title, "description", "Score", "Ratings", "No data")


def test_column_chart_is_accessible_and_has_a_titled_bar_per_value() -> None:
    bars = [charts.Bar(str(n), n == 5, f"Score {n}: {int(n == 5)} ratings") for n in range(1, 6)]
    svg = ET.fromstring(charts.column_chart(frame(), bars, str))
    assert svg.get("role") == "img" and svg.get("aria-label") == "Ratings"
    assert svg.find(f"{SVG}title").text == "Ratings"
    assert svg.find(f"{SVG}desc").text == "description"
    groups = svg.findall(f"{SVG}g")
    assert [g.find(f"{SVG}title").text for g in groups][-1] == "Score 5: 1 ratings"
    assert groups[-1].get("data-value") == "1"
    assert all(el.get("style") is None for el in svg.iter())


def test_labels_are_escaped_and_xml_breaking_characters_dropped() -> None:
    hostile = '</title><script>alert(1)</script>&\x00"'
    document = charts.column_chart(frame(hostile), [charts.Bar(hostile, 1, hostile)], str)
    assert "<script>" not in document and "\x00" not in document
    svg = ET.fromstring(document)  # still well-formed
    assert svg.find(f"{SVG}title").text == hostile.replace("\x00", "")
    assert not list(svg.iter(f"{SVG}script"))


def test_line_chart_leaves_gaps_and_titles_every_point() -> None:
    points = [charts.Point(1, "a: 1"), charts.Point(None, "b: –"), charts.Point(3, "c: 3")]
    points += [charts.Point(4, "d: 4")]
    svg = ET.fromstring(
        charts.line_chart(frame(), ["a", "b", "c", "d"], [charts.Series("T1", points)], str)
    )
    circles = list(svg.iter(f"{SVG}circle"))
    assert [c.find(f"{SVG}title").text for c in circles] == ["a: 1", "c: 3", "d: 4"]
    assert len(list(svg.iter(f"{SVG}polyline"))) == 1  # only c-d is a run of two


def test_empty_chart_says_so() -> None:
    svg = charts.line_chart(frame(), ["a"], [charts.Series("T1", [charts.Point(None, "")])], str)
    assert "No data" in svg
