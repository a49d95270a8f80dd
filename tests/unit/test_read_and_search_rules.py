"""Read markers only move forward and never past the last item; search terms name a
conversation by number or match text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.conversations.rules import SearchTerms, next_read_seq, parse_search

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("current", "requested", "last_seq", "expected"),
    [
        (0, 5, 10, 5),
        (5, 3, 10, 5),  # never back
        (5, 5, 10, 5),
        (5, 50, 10, 10),  # clamped to the last item
        (0, 0, 0, 0),
        (0, 1, 0, 0),
    ],
)
def test_next_read_seq(current: int, requested: int, last_seq: int, expected: int) -> None:
    assert next_read_seq(current, requested, last_seq) == expected


@given(st.integers(0, 1_000), st.lists(st.integers(0, 2_000), max_size=20), st.integers(0, 1_000))
def test_read_markers_are_monotonic_and_bounded(start: int, reports: list[int], last: int) -> None:
    current = min(start, last)
    for requested in reports:
        moved = next_read_seq(current, requested, last)
        assert current <= moved <= last
        current = moved


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("#12", SearchTerms(12, "")),
        ("12", SearchTerms(12, "12")),
        (" #7 ", SearchTerms(7, "")),
        ("#0012", SearchTerms(12, "")),
        ("acme-corp", SearchTerms(None, "acme-corp")),
        ("#12 crash", SearchTerms(None, "#12 crash")),
        ("1" * 19, SearchTerms(None, "1" * 19)),  # too long for an id: an order number
        ("パスワード", SearchTerms(None, "パスワード")),
        ("  ", SearchTerms(None, "")),
        ("#", SearchTerms(None, "#")),
    ],
)
def test_parse_search(q: str, expected: SearchTerms) -> None:
    assert parse_search(q) == expected
