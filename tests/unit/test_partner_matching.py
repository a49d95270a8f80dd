"""Partner matching and fair rotation, partner records, the CSV import's row errors, and
the lead e-mail's language (partners/rules.py, pure)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.core.errors import DomainError
from supportdesk.core.i18n import MESSAGES
from supportdesk.partners import rules, texts
from supportdesk.partners.rules import Candidate, rank_partners

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def partner(
    ident: int,
    level: str = "gold",
    specs: tuple[str, ...] = ("workflows",),
    languages: tuple[str, ...] = ("ja",),
    countries: tuple[str, ...] = ("JP",),
    last: datetime | None = None,
    active: bool = True,
) -> Candidate:
    return Candidate(ident, level, specs, languages, countries, last, active)


# --- matching ----------------------------------------------------------------------------


def test_the_specialisation_must_match_and_inactive_partners_never_appear() -> None:
    found = rank_partners(
        [
            partner(1, specs=("customization",)),
            partner(2),
            partner(3, active=False, level="platinum"),
        ],
        "workflows",
        "ja",
        "JP",
    )
    assert [c.id for c in found] == [2]


def test_language_beats_country_beats_level() -> None:
    candidates = [
        partner(1, level="platinum", languages=("en",), countries=("JP",)),
        partner(2, level="registered", languages=("ja",), countries=("US",)),
        partner(3, level="registered", languages=("ja",), countries=("JP",)),
        partner(4, level="platinum", languages=("ja",), countries=("US",)),
    ]
    found = rank_partners(candidates, "workflows", "ja", "JP", limit=4)
    # Speaks Japanese and works in Japan first, then Japanese speakers by level, then the
    # platinum partner that does not speak the customer's language.
    assert [c.id for c in found] == [3, 4, 2, 1]


def test_without_a_country_the_level_decides_among_speakers() -> None:
    candidates = [
        partner(1, level="silver"),
        partner(2, level="platinum"),
        partner(3, level="gold"),
    ]
    assert [c.id for c in rank_partners(candidates, "workflows", "ja", None)] == [2, 3, 1]


def test_ties_go_to_the_least_recently_referred_then_the_lower_id() -> None:
    candidates = [
        partner(1, last=T0 + timedelta(minutes=2)),
        partner(2, last=T0),
        partner(3, last=None),
        partner(4, last=None),
        partner(5, last=T0 + timedelta(minutes=1)),
    ]
    assert [c.id for c in rank_partners(candidates, "workflows", "ja", "JP")] == [3, 4, 2]


def test_a_card_shows_at_most_three() -> None:
    assert len(rank_partners([partner(i) for i in range(1, 8)], "workflows", "ja", "JP")) == 3


def test_rotation_gives_equal_partners_equal_turns() -> None:
    """Seven equally good partners, 70 cards of three: each is shown 30 times, and a
    better partner is on every card."""
    best = partner(100, level="platinum")
    candidates = [best] + [partner(i) for i in range(1, 8)]
    shown: Counter[int] = Counter()
    for turn in range(70):
        chosen = rank_partners(candidates, "workflows", "ja", "JP")
        shown.update(c.id for c in chosen)
        candidates = rules.after_referral(candidates, chosen, T0 + timedelta(seconds=turn))
    assert shown[100] == 70
    assert {shown[i] for i in range(1, 8)} == {20}


levels = st.sampled_from(rules.LEVELS)
spec_sets = st.sets(st.sampled_from(rules.SPECIALIZATIONS), min_size=1).map(tuple)
langs = st.sets(st.sampled_from(["ja", "en", "fr"]), min_size=1).map(tuple)
countries = st.sets(st.sampled_from(["JP", "US", "GB"]), max_size=2).map(tuple)
moments = st.none() | st.integers(0, 100).map(lambda m: T0 + timedelta(minutes=m))


@st.composite
def candidate_lists(draw: st.DrawFn) -> list[Candidate]:
    size = draw(st.integers(0, 12))
    return [
        Candidate(
            i + 1,
            draw(levels),
            draw(spec_sets),
            draw(langs),
            draw(countries),
            draw(moments),
            draw(st.booleans()),
        )
        for i in range(size)
    ]


@settings(max_examples=200, deadline=None)
@given(
    candidate_lists(),
    st.sampled_from(rules.SPECIALIZATIONS),
    st.none() | st.sampled_from(["ja", "en"]),
    st.none() | st.sampled_from(["JP", "US"]),
)
def test_ranking_properties(
    candidates: list[Candidate], spec: str, language: str | None, country: str | None
) -> None:
    found = rank_partners(candidates, spec, language, country)
    qualified = [c for c in candidates if c.active and spec in c.specializations]
    assert len(found) == min(3, len(qualified))
    assert all(c in qualified for c in found)

    def better_or_equal(a: Candidate, b: Candidate) -> bool:
        key_a = rules.match_key(a, language, country)[:3]
        key_b = rules.match_key(b, language, country)[:3]
        return key_a <= key_b

    # Nobody left off the card is strictly better than someone on it.
    for left in (c for c in qualified if c not in found):
        assert all(better_or_equal(chosen, left) for chosen in found)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 9), st.integers(1, 3), st.integers(1, 40))
def test_rotation_never_lets_equal_partners_drift_apart(size: int, card: int, turns: int) -> None:
    candidates = [partner(i) for i in range(1, size + 1)]
    shown: Counter[int] = Counter({c.id: 0 for c in candidates})
    for turn in range(turns):
        chosen = rank_partners(candidates, "workflows", "ja", "JP", limit=card)
        shown.update(c.id for c in chosen)
        candidates = rules.after_referral(candidates, chosen, T0 + timedelta(seconds=turn))
    assert max(shown.values()) - min(shown.values()) <= 1


# --- records and CSV ------------------------------------------------------------------------


def good(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "name": "  Sakura   Solutions ",
        "level": "Gold",
        "specializations": ["workflows", "Customization", "workflows"],
        "countries": ["jp"],
        "languages": ["JA", "en"],
        "contact_url": "https://sakura.example.com/",
        "email": "leads@sakura.example.com",
        "description_en": "Workflows",
        "description_ja": "ワークフロー",
    }
    fields.update(changes)
    return fields


def test_a_partner_is_normalised() -> None:
    draft = rules.check_partner(**good())  # type: ignore[arg-type]
    assert draft.name == "Sakura Solutions"
    assert draft.level == "gold"
    assert draft.specializations == ("workflows", "customization")
    assert draft.countries == ("JP",)
    assert draft.languages == ("ja", "en")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("name", "  ", "partner_name_invalid"),
        ("level", "diamond", "partner_level_invalid"),
        ("specializations", [], "partner_specialization_invalid"),
        ("specializations", ["cooking"], "partner_specialization_invalid"),
        ("countries", ["Japan"], "partner_country_invalid"),
        ("languages", [], "partner_language_invalid"),
        ("languages", ["japanese"], "partner_language_invalid"),
        ("contact_url", "javascript:alert(1)", "partner_url_invalid"),
        ("email", "x@example.com\r\nBcc: victim@example.com", "partner_email_invalid"),
        ("email", "two@example.com, three@example.com", "partner_email_invalid"),
        ("description_ja", "あ" * 2001, "partner_description_too_long"),
    ],
)
def test_bad_fields_are_refused_with_their_code(field: str, value: object, code: str) -> None:
    with pytest.raises(DomainError) as caught:
        rules.check_partner(**good(**{field: value}))  # type: ignore[arg-type]
    assert caught.value.code == code
    assert caught.value.status == 422


HEADER = (
    "name,level,specializations,countries,languages,contact_url,email,description_en,description_ja"
)


def test_a_csv_becomes_drafts() -> None:
    text = (
        HEADER
        + "\n"
        + "A,gold,workflows;customization,JP,ja|en,https://a.example.com,a@a.example.com,"
        + '"Hi, there",こんにちは\n'
        + "\n"  # blank lines are ignored
        + "B,silver,training,,en,https://b.example.com,b@b.example.com,,\n"
    )
    drafts = rules.parse_csv(text)
    assert [d.name for d in drafts] == ["A", "B"]
    assert drafts[0].specializations == ("workflows", "customization")
    assert drafts[0].languages == ("ja", "en")
    assert drafts[0].description_en == "Hi, there"
    assert drafts[1].countries == () and drafts[1].active


def test_every_bad_row_is_reported_with_its_row_and_column() -> None:
    text = (
        HEADER
        + ",active\n"
        + "A,gold,workflows,JP,ja,https://a.example.com,a@a.example.com,,,true\n"
        + "B,diamond,workflows,JP,ja,https://b.example.com,b@b.example.com,,,true\n"
        + "A,gold,workflows,JP,ja,https://a.example.com,a@a.example.com,,,true\n"
        + "C,gold,workflows,JP,ja,https://c.example.com,not-an-email,,,true\n"
        + "D,gold,workflows,JP,ja,https://d.example.com,d@d.example.com,,,maybe\n"
        + "E,gold\n"
    )
    with pytest.raises(rules.CsvInvalid) as caught:
        rules.parse_csv(text)
    found = [(e.row, e.column, e.code) for e in caught.value.errors]
    assert found == [
        (3, "level", "partner_level_invalid"),
        (4, "name", "partner_csv_duplicate_name"),
        (5, "email", "partner_email_invalid"),
        (6, "active", "partner_csv_active_invalid"),
        (7, None, "partner_csv_column_count"),
    ]
    assert all(e.code in MESSAGES for e in caught.value.errors)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "partner_csv_empty"),
        ("name,level,colour\n", "partner_csv_unknown_column"),
        ("name,level\n", "partner_csv_missing_column"),
    ],
)
def test_file_level_problems(text: str, code: str) -> None:
    with pytest.raises(rules.CsvInvalid) as caught:
        rules.parse_csv(text)
    assert code in {e.code for e in caught.value.errors}


def test_csv_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(rules.CsvInvalid) as caught:
        rules.decode_csv("名前".encode("shift_jis"))
    assert caught.value.errors[0].code == "partner_csv_encoding"
    assert rules.decode_csv("\ufeffname".encode()) == "name"  # Excel's BOM is dropped


def test_a_draft_round_trips_through_csv_cells() -> None:
    draft = rules.check_partner(**good())  # type: ignore[arg-type]
    line = ",".join(f'"{cell}"' for cell in rules.csv_cells(draft))
    assert rules.parse_csv(HEADER + ",active\n" + line + "\n") == [draft]


# --- the lead e-mail ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("languages", "customer", "expected"),
    [
        (("ja", "en"), "ja", "ja"),
        (("ja", "en"), "en", "en"),
        (("ja",), "en", "ja"),
        (("en",), "ja", "en"),
        (("fr",), "ja", "en"),
    ],
)
def test_the_mail_is_in_a_language_the_partner_reads(
    languages: tuple[str, ...], customer: str, expected: str
) -> None:
    assert rules.mail_locale(languages, customer) == expected


def test_the_summary_is_the_subject_and_the_first_messages_cut_short() -> None:
    assert rules.summary_of("Subject", ["Subject", "More", ""]) == "Subject\n\nMore"
    long = rules.summary_of("S", ["x" * 5000], limit=100)
    assert len(long) == 100 and long.endswith("…")


def test_every_text_has_both_languages_with_the_same_fields() -> None:
    import string

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for bilingual in (
        texts.PARTNER_POLICY,
        texts.VENDOR_POLICY,
        texts.LEAD_CONFIRMATION,
        texts.LEAD_MAIL_SUBJECT,
        texts.LEAD_MAIL_BODY,
    ):
        assert set(bilingual) == {"en", "ja"}
        assert fields(bilingual["en"]) == fields(bilingual["ja"])
    assert set(texts.SPECIALIZATION_NAMES) == set(rules.SPECIALIZATIONS)
