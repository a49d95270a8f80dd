"""Pure computations behind the supervisor reports: report windows, daily buckets,
percentiles, per-tier attribution of conversations, and CSV cells that a spreadsheet
cannot run. No I/O: the queries fetch rows, these functions shape them.

Which tier a conversation belongs to
------------------------------------
A conversation belongs to **every tier it reached**: the tier it was opened at (always
customer support today) and every ``to_tier`` of its ``transferred`` system items. So the
customer-support row counts every conversation, and the technical-support row counts the
escalated ones. It counts once per tier however often it bounced. The row's day is the UTC
date the conversation was *opened*, in every tier, so a conversation never moves between
days as it is transferred. Durations are the conversation's own, as the customer felt
them (first response and resolution measured from opening), so a tier's row answers "how
fast were the conversations that needed this tier answered and solved". A conversation
counts as *transferred in a tier's row* when it was transferred **out of** that tier (a
``transferred`` item with ``from_tier`` = the tier); the transfer rate is transfers divided
by opened. Since every conversation is opened at customer support, that row's transfer
rate is the share of all conversations that were escalated.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from supportdesk.core.clock import as_utc
from supportdesk.core.errors import invalid

DEFAULT_DAYS = 30
MAX_DAYS = 366


# --- report windows ----------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """``start`` inclusive, ``end`` exclusive, both aware UTC datetimes."""

    start: datetime
    end: datetime

    @property
    def days(self) -> list[date]:
        """Every UTC date the window touches, in order (the report's x axis)."""
        first = self.start.date()
        last = (self.end - timedelta(microseconds=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def report_window(start: datetime | None, end: datetime | None, now: datetime) -> Window:
    """The window of a report. ``to`` defaults to the end of today (UTC) and ``from`` to
    30 days before ``to``. Naive datetimes are UTC. Refuses an empty or reversed window
    (``invalid_date_range``) and one longer than a year (``report_range_too_long``), which
    would make a chart of unreadable slivers and a needlessly large read."""
    end_utc = (
        as_utc(end)
        if end is not None
        else datetime.combine(as_utc(now).date() + timedelta(days=1), time(), UTC)
    )
    start_utc = as_utc(start) if start is not None else end_utc - timedelta(days=DEFAULT_DAYS)
    if start_utc >= end_utc:
        raise invalid("invalid_date_range")
    if end_utc - start_utc > timedelta(days=MAX_DAYS):
        raise invalid("report_range_too_long", max_days=MAX_DAYS)
    return Window(start_utc, end_utc)


def utc_day(moment: datetime) -> date:
    return as_utc(moment).astimezone(UTC).date()


# --- percentiles -------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks: the same definition as
    PostgreSQL's ``percentile_cont`` and numpy's default, so figures agree with an ad-hoc
    SQL check. ``None`` for no values."""
    if not values:
        return None
    if not 0 <= fraction <= 1:
        raise ValueError("fraction must be between 0 and 1")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower = math.floor(position)
    upper = math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


@dataclass(frozen=True)
class Spread:
    """How many durations there were, their median and 90th percentile, in seconds."""

    count: int
    median: float | None
    p90: float | None


def spread(seconds: Sequence[float]) -> Spread:
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return Spread(
        len(seconds), rounded(percentile(seconds, 0.5)), rounded(percentile(seconds, 0.9))
    )


# --- operations per day and tier -------------------------------------------------


@dataclass(frozen=True)
class ConversationTimes:
    """What the operations report needs of one conversation."""

    id: int
    current_tier: str
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True)
class Transfer:
    conversation_id: int
    from_tier: str
    to_tier: str


@dataclass(frozen=True)
class TierPath:
    reached: frozenset[str]  # every tier the conversation was in
    transferred_from: frozenset[str]  # tiers it was transferred out of


def tier_path(current_tier: str, transfers: Sequence[Transfer]) -> TierPath:
    """The tiers a conversation reached, from its transfers in order. With no transfer it
    has only ever been in its current tier; otherwise it was opened at the first
    transfer's ``from_tier``."""
    reached = {current_tier}
    for transfer in transfers:
        reached.update((transfer.from_tier, transfer.to_tier))
    return TierPath(frozenset(reached), frozenset(t.from_tier for t in transfers))


@dataclass(frozen=True)
class OperationsRow:
    day: date
    tier: str
    opened: int
    first_response: Spread
    resolution: Spread
    transfers: int
    transfer_rate: float | None


def operations_rows(
    conversations: Iterable[ConversationTimes],
    transfers: Iterable[Transfer],
    days: Sequence[date],
    tiers: Sequence[str],
) -> list[OperationsRow]:
    """One row per day and tier (every day of the window, zeros included, so a chart has a
    continuous axis), ordered by day then by the order of ``tiers``. See the module
    docstring for which tier a conversation counts in."""
    by_conversation: dict[int, list[Transfer]] = defaultdict(list)
    for transfer in transfers:
        by_conversation[transfer.conversation_id].append(transfer)
    opened: dict[tuple[date, str], int] = defaultdict(int)
    moved: dict[tuple[date, str], int] = defaultdict(int)
    first: dict[tuple[date, str], list[float]] = defaultdict(list)
    resolution: dict[tuple[date, str], list[float]] = defaultdict(list)
    for conv in conversations:
        path = tier_path(conv.current_tier, by_conversation.get(conv.id, []))
        day = utc_day(conv.created_at)
        for tier in path.reached:
            bucket = (day, tier)
            opened[bucket] += 1
            if tier in path.transferred_from:
                moved[bucket] += 1
            if conv.first_response_at is not None:
                first[bucket].append(_seconds(conv.created_at, conv.first_response_at))
            if conv.resolved_at is not None:
                resolution[bucket].append(_seconds(conv.created_at, conv.resolved_at))
    rows = []
    for day in days:
        for tier in tiers:
            bucket = (day, tier)
            count = opened.get(bucket, 0)
            rows.append(
                OperationsRow(
                    day=day,
                    tier=tier,
                    opened=count,
                    first_response=spread(first.get(bucket, [])),
                    resolution=spread(resolution.get(bucket, [])),
                    transfers=moved.get(bucket, 0),
                    transfer_rate=round(moved.get(bucket, 0) / count, 4) if count else None,
                )
            )
    return rows


def _seconds(start: datetime, end: datetime) -> float:
    # A clock step backwards must not produce a negative wait.
    return max(0.0, (as_utc(end) - as_utc(start)).total_seconds())


# --- CSAT per day ------------------------------------------------------------------


@dataclass(frozen=True)
class CsatDay:
    day: date
    count: int
    average: float | None


def csat_days(ratings: Iterable[tuple[datetime, int]], days: Sequence[date]) -> list[CsatDay]:
    """Count and average score per UTC day of the rating; days without ratings have
    count 0 and no average."""
    scores: dict[date, list[int]] = defaultdict(list)
    for rated_at, score in ratings:
        scores[utc_day(rated_at)].append(score)
    out = []
    for day in days:
        day_scores = scores.get(day, [])
        average = round(sum(day_scores) / len(day_scores), 3) if day_scores else None
        out.append(CsatDay(day, len(day_scores), average))
    return out


# --- CSV ---------------------------------------------------------------------------

# OWASP "CSV Injection": a spreadsheet treats a cell starting with one of these as a
# formula (tab and carriage return can hide one after them).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> str:
    """The cell as text that a spreadsheet shows rather than evaluates: a leading formula
    character gets a single quote in front (OWASP's advice); quoting and embedded quotes
    are the csv writer's job."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV document (CRLF line ends, every cell quoted) with every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([neutralise_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([neutralise_cell(cell) for cell in row])
    return buffer.getvalue()
