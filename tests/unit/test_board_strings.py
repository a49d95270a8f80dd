"""The product board's strings (domain ``board``) and the request words the console and
the widget add: both languages, every status and state the product rules know, and the
score formula on the board saying what ``product/rules.py`` computes."""

from __future__ import annotations

import pytest

from supportdesk.product import rules
from supportdesk.web import i18n

pytestmark = pytest.mark.unit


def test_the_board_domain_exists_in_both_languages() -> None:
    assert "board" in i18n.domains()
    en, ja = i18n.catalogue("board", "en"), i18n.catalogue("board", "ja")
    assert set(en) == set(ja)
    assert ja["board.title"] == "プロダクトボード"


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_every_state_status_and_complexity_has_a_name(locale: str) -> None:
    board = i18n.catalogue("board", locale)
    console = i18n.catalogue("console", locale)
    widget = i18n.catalogue("widget", locale)
    for state in rules.TOPIC_STATES:
        assert board[f"board.state.{state}"]
        assert console[f"console.product.state.{state}"]
    for status in rules.REQUEST_STATUSES:
        assert board[f"board.status.{status}"]
        assert console[f"console.product.status.{status}"]
        assert widget[f"requests.status.{status}"]
    for size in rules.COMPLEXITIES:
        assert board[f"board.complexity.{size}"]
    for kind in (*rules.REQUEST_KINDS, "wish", "bug"):
        assert board[f"board.kind.{kind}"]


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_the_formula_on_the_board_is_the_one_the_rules_compute(locale: str) -> None:
    formula = i18n.catalogue("board", locale)["board.formula.text"]
    assert "0.5" in formula
    assert f"{rules.HALF_LIFE_DAYS:g}" in formula
    trend = i18n.catalogue("board", locale)["board.formula.trend"]
    assert str(rules.TREND_DAYS) in trend
