"""Supervisor reports: operations per day and tier, CSAT per day, the per-agent CSAT table
as CSV, and SVG charts. ``GET /api/v1/reports/csat`` itself lives with the conversations.

Every report takes ``from`` (inclusive) and ``to`` (exclusive) as ISO dates or datetimes
(naive means UTC); by default the last 30 days up to the end of today (UTC), at most 366.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from supportdesk.conversations.queries import CsatReport, csat_report
from supportdesk.conversations.rules import parse_tier
from supportdesk.core.auth import Tier
from supportdesk.core.clock import utcnow
from supportdesk.core.i18n import Locale
from supportdesk.deps import SupervisorDep, SvcDep, request_locale
from supportdesk.reports import charts, queries, rules
from supportdesk.reports.rules import Window
from supportdesk.services import Services
from supportdesk.web.i18n import catalogue

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

DOMAIN = "supervisor"
FromQuery = Query(default=None, alias="from")
ToQuery = Query(default=None, alias="to")
Metric = Literal["opened", "first_response", "resolution", "transfer_rate"]
SVG_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # The charts carry presentation attributes only: no style, script or fetch at all.
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}


class SpreadOut(BaseModel):
    count: int
    median: float | None  # seconds
    p90: float | None


class OperationsRowOut(BaseModel):
    date: date
    tier: str
    opened: int
    first_response: SpreadOut
    resolution: SpreadOut
    transfers: int
    transfer_rate: float | None


class OperationsOut(BaseModel):
    start: datetime
    end: datetime
    rows: list[OperationsRowOut]


class CsatDayOut(BaseModel):
    date: date
    count: int
    average: float | None


class CsatDailyOut(BaseModel):
    start: datetime
    end: datetime
    days: list[CsatDayOut]


def _window(start: datetime | None, end: datetime | None) -> Window:
    return rules.report_window(start, end, utcnow())


def _tier(value: str | None) -> Tier | None:
    return parse_tier(value) if value else None


@dataclass(frozen=True)
class CsatFilter:
    """The filters every CSAT report, chart and export takes."""

    window: Window
    tier: Tier | None
    agent: int | None


def _csat_filter(
    start: datetime | None = FromQuery,
    end: datetime | None = ToQuery,
    tier: str | None = None,
    agent: int | None = None,
) -> CsatFilter:
    return CsatFilter(_window(start, end), _tier(tier), agent)


def _text(request: Request, locale: Locale | None = None) -> dict[str, str]:
    """The supervisor catalogue in ``locale`` if given (the page's current language),
    else the caller's saved locale."""
    return dict(catalogue(DOMAIN, locale or request_locale(request)))


CsatFilterDep = Annotated[CsatFilter, Depends(_csat_filter)]
TextDep = Annotated[dict[str, str], Depends(_text)]


@router.get("/operations")
async def operations(
    _: SupervisorDep,
    svc: SvcDep,
    start: datetime | None = FromQuery,
    end: datetime | None = ToQuery,
    tier: str | None = None,
) -> OperationsOut:
    """Per UTC day and tier: conversations opened, median and p90 first-response time and
    time to resolution (seconds), transfers and transfer rate. A conversation counts in
    every tier it reached, on the day it was opened (see ``reports.rules``)."""
    window = _window(start, end)
    async with svc.db.read() as session:
        rows = await queries.operations(session, window, _tier(tier))
    return OperationsOut(start=window.start, end=window.end, rows=[_row_out(r) for r in rows])


def _row_out(row: rules.OperationsRow) -> OperationsRowOut:
    return OperationsRowOut(
        date=row.day,
        tier=row.tier,
        opened=row.opened,
        first_response=SpreadOut(**row.first_response.__dict__),
        resolution=SpreadOut(**row.resolution.__dict__),
        transfers=row.transfers,
        transfer_rate=row.transfer_rate,
    )


@router.get("/csat/daily")
async def csat_daily(_: SupervisorDep, svc: SvcDep, filters: CsatFilterDep) -> CsatDailyOut:
    """Ratings per UTC day: count and average score (``null`` on days without any)."""
    async with svc.db.read() as session:
        days = await queries.csat_daily(session, filters.window, filters.tier, filters.agent)
    return CsatDailyOut(
        start=filters.window.start,
        end=filters.window.end,
        days=[CsatDayOut(date=d.day, count=d.count, average=d.average) for d in days],
    )


@router.get("/csat.csv")
async def csat_csv(
    _: SupervisorDep, svc: SvcDep, filters: CsatFilterDep, text: TextDep
) -> Response:
    """The per-agent-and-tier CSAT table as a spreadsheet-safe CSV (UTF-8 with a BOM, so
    Excel reads Japanese names; formula cells neutralised). Headers and tier names are in
    the caller's locale."""
    report = await _csat_report(svc, filters)
    header = [
        text["supervisor.csv.agent_id"],
        text["supervisor.csv.agent"],
        text["supervisor.csv.tier"],
        text["supervisor.csv.count"],
        text["supervisor.csv.average"],
    ]
    rows = [
        [row.agent_id, row.agent_name, _tier_name(text, row.tier), row.count, row.average]
        for row in report.by_agent
    ]
    days = filters.window.days
    name = f"csat-{days[0].isoformat()}-{days[-1].isoformat()}.csv"
    return Response(
        content="\ufeff" + rules.csv_text(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


# --- charts --------------------------------------------------------------------------


@router.get("/charts/csat-distribution.svg")
async def csat_distribution_chart(
    _: SupervisorDep, svc: SvcDep, filters: CsatFilterDep, text: TextDep
) -> Response:
    """How many ratings gave each score, 1 to 5."""
    report = await _csat_report(svc, filters)
    average = "–" if report.average is None else f"{report.average:.2f}"
    frame = _frame(
        text,
        "sd-chart-csat-distribution",
        "distribution",
        filters.window,
        count=report.count,
        average=average,
    )
    bars = [
        charts.Bar(
            label=str(score),
            value=count,
            title=text["supervisor.chart.distribution.bar"].format(score=score, count=count),
        )
        for score, count in sorted(report.distribution.items())
    ]
    return _svg(charts.column_chart(frame, bars, _count))


@router.get("/charts/csat-daily.svg")
async def csat_daily_chart(
    _: SupervisorDep, svc: SvcDep, filters: CsatFilterDep, text: TextDep
) -> Response:
    """The average score per day, as a line (days without ratings leave a gap)."""
    window = filters.window
    async with svc.db.read() as session:
        days = await queries.csat_daily(session, window, filters.tier, filters.agent)
    frame = _frame(text, "sd-chart-csat-daily", "csat_daily", window)
    points = [
        charts.Point(
            value=day.average,
            title=text["supervisor.chart.csat_daily.point"].format(
                day=day.day.isoformat(),
                average="–" if day.average is None else f"{day.average:.2f}",
                count=day.count,
            ),
        )
        for day in days
    ]
    series = [charts.Series(text["supervisor.chart.csat_daily.y"], points)]
    chart = charts.line_chart(frame, _day_labels(window), series, _score, minimum=5)
    return _svg(chart)


@router.get("/charts/operations.svg")
async def operations_chart(
    _: SupervisorDep,
    svc: SvcDep,
    text: TextDep,
    metric: Metric = "opened",
    start: datetime | None = FromQuery,
    end: datetime | None = ToQuery,
    tier: str | None = None,
) -> Response:
    """One operational metric per day, one line per tier (durations: median and p90)."""
    window = _window(start, end)
    chosen = _tier(tier)
    async with svc.db.read() as session:
        rows = await queries.operations(session, window, chosen)
    tiers = [chosen.value] if chosen else [t.value for t in Tier]
    frame = _frame(text, f"sd-chart-operations-{metric}", f"ops.{metric}", window)
    by_tier = {t: [row for row in rows if row.tier == t] for t in tiers}

    def line(name: str, values: list[float | None], fmt: Callable[[float], str]) -> charts.Series:
        points = [
            charts.Point(
                value=value,
                title=text["supervisor.chart.point"].format(
                    day=day.isoformat(), series=name, value="–" if value is None else fmt(value)
                ),
            )
            for day, value in zip(window.days, values, strict=True)
        ]
        return charts.Series(name, points)

    series: list[charts.Series] = []
    if metric in ("first_response", "resolution"):
        spreads = {
            t: [r.first_response if metric == "first_response" else r.resolution for r in rs]
            for t, rs in by_tier.items()
        }
        longest = max(
            (s.p90 or 0 for spread_list in spreads.values() for s in spread_list), default=0
        )
        fmt, unit = _duration_formatter(text, longest)
        for t, spread_list in spreads.items():
            tier_name = _tier_name(text, t)
            median_name = text["supervisor.chart.series.median"].format(tier=tier_name)
            p90_name = text["supervisor.chart.series.p90"].format(tier=tier_name)
            series.append(line(median_name, [s.median for s in spread_list], fmt))
            series.append(line(p90_name, [s.p90 for s in spread_list], fmt))
        chart = charts.line_chart(frame, _day_labels(window), series, fmt, minimum=5, unit=unit)
    elif metric == "transfer_rate":
        for t, rs in by_tier.items():
            series.append(line(_tier_name(text, t), [r.transfer_rate for r in rs], _percent(text)))
        chart = charts.line_chart(frame, _day_labels(window), series, _percent(text), minimum=1)
    else:
        for t, rs in by_tier.items():
            series.append(line(_tier_name(text, t), [float(r.opened) for r in rs], _count))
        chart = charts.line_chart(frame, _day_labels(window), series, _count)
    return _svg(chart)


# --- helpers -------------------------------------------------------------------------


async def _csat_report(svc: Services, filters: CsatFilter) -> CsatReport:
    window = filters.window
    async with svc.db.read() as session:
        return await csat_report(
            session, start=window.start, end=window.end, tier=filters.tier, agent_id=filters.agent
        )


def _frame(
    text: dict[str, str], chart_id: str, key: str, window: Window, **fields: object
) -> charts.Frame:
    first, last = window.days[0].isoformat(), window.days[-1].isoformat()
    prefix = f"supervisor.chart.{key}"
    return charts.Frame(
        chart_id=chart_id,
        title=text[f"{prefix}.title"],
        desc=text[f"{prefix}.desc"].format(first=first, last=last, **fields),
        x_label=text[f"{prefix}.x"],
        y_label=text[f"{prefix}.y"],
        empty=text["supervisor.chart.empty"],
    )


def _tier_name(text: dict[str, str], tier: str) -> str:
    return text.get(f"supervisor.tier.{tier}", tier)


def _day_labels(window: Window) -> list[str]:
    return [day.strftime("%m-%d") for day in window.days]


def _count(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _score(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _percent(text: dict[str, str]) -> Callable[[float], str]:
    return lambda value: text["supervisor.unit.percent"].format(value=f"{value * 100:.0f}")


def _duration_formatter(
    text: dict[str, str], longest: float
) -> tuple[Callable[[float], str], float]:
    """Seconds shown in one unit for the whole chart, picked by the longest duration;
    returns the formatter and the unit's size in seconds."""
    if longest >= 2 * 3600:
        unit, size = "hours", 3600.0
    elif longest >= 120:
        unit, size = "minutes", 60.0
    else:
        unit, size = "seconds", 1.0
    template = text[f"supervisor.unit.{unit}"]

    def fmt(seconds: float) -> str:
        return template.format(value=_score(seconds / size) if size > 1 else f"{seconds:.0f}")

    return fmt, size


def _svg(document: str) -> Response:
    return Response(content=document, media_type="image/svg+xml", headers=SVG_HEADERS)
