"""The labelled triage requests: size, balance, coverage, shape, and a held-out part that
shares no request (nor a near-copy of one) with the training part."""

from __future__ import annotations

from collections import Counter

import pytest
from rapidfuzz import fuzz

from supportdesk.triage import rules
from supportdesk.triage.data import DEMO_APPS, load_rows

pytestmark = pytest.mark.unit

TRAIN = load_rows("train")
TEST = load_rows("test")


def test_there_are_enough_requests_in_both_languages_and_every_category():
    rows = TRAIN + TEST
    assert len(rows) >= 340
    locales = Counter(row["locale"] for row in rows)
    assert set(locales) == {"ja", "en"} and min(locales.values()) >= 0.45 * len(rows)
    assert 0.25 <= len(TEST) / len(rows) <= 0.35
    for part in (TRAIN, TEST):
        assert {row["category"] for row in part} == set(rules.CATEGORIES)
        subtypes = {row["subtype"] for row in part if row["category"] == "out_of_scope"}
        assert subtypes == set(rules.SUBTYPES)
        qualities = {row["quality"] for row in part if row["category"] == "technical_problem"}
        assert qualities == {"vague", "specific"}


def test_every_row_has_the_documented_shape():
    for row in TRAIN + TEST:
        assert set(row) == {"text", "locale", "category", "subtype", "quality", "missing"}
        assert row["text"].strip() and row["locale"] in ("ja", "en")
        assert row["category"] in rules.CATEGORIES
        assert (row["subtype"] in rules.SUBTYPES) == (row["category"] == "out_of_scope")
        assert (row["quality"] in ("vague", "specific")) == (row["category"] == "technical_problem")
        assert set(row["missing"]) <= set(rules.MISSING_ITEMS)


def _key(text: str) -> str:
    return "".join(ch for ch in rules.normalise(text) if ch.isalnum())


def test_the_held_out_part_shares_no_request_or_near_copy_with_training():
    train_keys = [_key(row["text"]) for row in TRAIN]
    assert len(set(train_keys)) == len(train_keys)
    for row in TEST:
        key = _key(row["text"])
        assert key not in train_keys
        closest = max(fuzz.ratio(key, other) for other in train_keys)
        assert closest < 85, row["text"]


def test_marketplace_requests_name_catalogue_apps_in_both_languages():
    names = [n for app in DEMO_APPS for n in (app["name_en"], app["name_ja"], *app["aliases"])]
    rows = [row for row in TRAIN + TEST if row["category"] == "marketplace_app"]
    for locale in ("ja", "en"):
        naming = [
            row
            for row in rows
            if row["locale"] == locale and any(n.lower() in row["text"].lower() for n in names)
        ]
        assert len(naming) >= 15
    # Aliases are used, not only the official names.
    aliases = [a for app in DEMO_APPS for a in app["aliases"]]
    assert sum(any(a in row["text"] for a in aliases) for row in rows) >= 10
