"""Pure decisions about partners: what a valid partner record is, how a CSV file becomes
records (or row-level errors), which partners a referral card offers, and the language of
the lead e-mail. No I/O.

Matching (``rank_partners``)
----------------------------
A partner qualifies when it is active and has the requested specialisation. Qualified
partners are ordered by, in turn: speaks the customer's language, works in the customer's
country, certification level (platinum, gold, silver, registered), then fair rotation:
the partner referred longest ago (never referred first), then the lower id. Every partner
a card shows gets ``last_referred_at = now`` (plus its position on the card in
microseconds), so equally good partners take turns like a queue.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from supportdesk.core.errors import DomainError, invalid

LEVELS: tuple[str, ...] = ("platinum", "gold", "silver", "registered")
SPECIALIZATIONS: tuple[str, ...] = (
    "implementation",
    "customization",
    "workflows",
    "app_development",
    "rest_integration",
    "training",
)
CARD_SIZE = 3
NAME_MAX = 200
URL_MAX = 500
EMAIL_MAX = 320
DESCRIPTION_MAX = 2000
LIST_MAX = 50
CSV_MAX_ROWS = 5000
CSV_MAX_BYTES = 1024 * 1024

_COUNTRY = re.compile(r"[A-Z]{2}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_URL = re.compile(r"https?://[^\s<>\"'`]+")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_LIST_SEPARATORS = re.compile(r"[;|,\s]+")


# --- partner records ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartnerDraft:
    """A partner's fields as an admin or a CSV row gives them, checked."""

    name: str
    level: str
    specializations: tuple[str, ...]
    countries: tuple[str, ...]
    languages: tuple[str, ...]
    contact_url: str
    email: str
    description_en: str
    description_ja: str
    active: bool = True


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def check_partner(
    *,
    name: str,
    level: str,
    specializations: Sequence[str],
    countries: Sequence[str],
    languages: Sequence[str],
    contact_url: str,
    email: str,
    description_en: str,
    description_ja: str,
    active: bool = True,
) -> PartnerDraft:
    """Normalise and check every field; the first problem raises a 422 with its own code
    (``field`` names the offending field)."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= NAME_MAX:
        raise invalid("partner_name_invalid", max=NAME_MAX)
    level = level.strip().lower()
    if level not in LEVELS:
        raise invalid("partner_level_invalid", levels=", ".join(LEVELS))
    specs = _unique(s.strip().lower() for s in specializations if s.strip())
    if not specs or len(specs) > LIST_MAX or any(s not in SPECIALIZATIONS for s in specs):
        raise invalid("partner_specialization_invalid", allowed=", ".join(SPECIALIZATIONS))
    country_codes = _unique(c.strip().upper() for c in countries if c.strip())
    if len(country_codes) > LIST_MAX or any(not _COUNTRY.fullmatch(c) for c in country_codes):
        raise invalid("partner_country_invalid")
    language_codes = _unique(lang.strip().lower() for lang in languages if lang.strip())
    if (
        not language_codes
        or len(language_codes) > LIST_MAX
        or any(not _LANGUAGE.fullmatch(lang) for lang in language_codes)
    ):
        raise invalid("partner_language_invalid")
    contact_url = contact_url.strip()
    if len(contact_url) > URL_MAX or not _URL.fullmatch(contact_url):
        raise invalid("partner_url_invalid", max=URL_MAX)
    email = email.strip()
    if len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email):
        raise invalid("partner_email_invalid")
    description_en, description_ja = description_en.strip(), description_ja.strip()
    if len(description_en) > DESCRIPTION_MAX or len(description_ja) > DESCRIPTION_MAX:
        raise invalid("partner_description_too_long", max=DESCRIPTION_MAX)
    return PartnerDraft(
        name=name,
        level=level,
        specializations=specs,
        countries=country_codes,
        languages=language_codes,
        contact_url=contact_url,
        email=email,
        description_en=description_en,
        description_ja=description_ja,
        active=active,
    )


def check_specialization(value: str) -> str:
    value = value.strip().lower()
    if value not in SPECIALIZATIONS:
        raise invalid("partner_specialization_invalid", allowed=", ".join(SPECIALIZATIONS))
    return value


def check_filter_language(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip().lower()
    if not _LANGUAGE.fullmatch(value):
        raise invalid("partner_language_invalid")
    return value


def check_filter_country(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip().upper()
    if not _COUNTRY.fullmatch(value):
        raise invalid("partner_country_invalid")
    return value


def changed(before: PartnerDraft, after: PartnerDraft) -> bool:
    return before != after


# --- CSV import --------------------------------------------------------------------------

CSV_COLUMNS: tuple[str, ...] = (
    "name",
    "level",
    "specializations",
    "countries",
    "languages",
    "contact_url",
    "email",
    "description_en",
    "description_ja",
    "active",
)
CSV_REQUIRED: frozenset[str] = frozenset(CSV_COLUMNS) - {"active", "countries"}
_ERROR_FIELD = {
    "partner_name_invalid": "name",
    "partner_level_invalid": "level",
    "partner_specialization_invalid": "specializations",
    "partner_country_invalid": "countries",
    "partner_language_invalid": "languages",
    "partner_url_invalid": "contact_url",
    "partner_email_invalid": "email",
    "partner_description_too_long": "description_en",
}
_TRUE = frozenset({"", "1", "true", "yes", "y", "active"})
_FALSE = frozenset({"0", "false", "no", "n", "inactive"})


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in the file: ``row`` is the line's record number (the header is row 1),
    ``column`` the column name (or None for the whole file / row)."""

    row: int
    column: str | None
    code: str
    params: dict[str, Any] = field(default_factory=dict)


class CsvInvalid(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


def split_list(cell: str) -> list[str]:
    """``"ja; en"``, ``"ja|en"``, ``"ja en"`` -> ``["ja", "en"]``."""
    return [part for part in _LIST_SEPARATORS.split(cell.strip()) if part]


def decode_csv(data: bytes) -> str:
    if len(data) > CSV_MAX_BYTES:
        raise CsvInvalid([RowError(0, None, "partner_csv_too_large", {"max": CSV_MAX_BYTES})])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvInvalid([RowError(0, None, "partner_csv_encoding")]) from None


def parse_csv(text: str) -> list[PartnerDraft]:
    """Every row of the file as a checked draft, or ``CsvInvalid`` with every problem
    found (all rows are checked, so an admin fixes the file in one go)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error:
        raise CsvInvalid([RowError(0, None, "partner_csv_malformed")]) from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise CsvInvalid([RowError(0, None, "partner_csv_empty")])
    header = [cell.strip().lower() for cell in rows[0]]
    errors: list[RowError] = []
    for column in header:
        if column not in CSV_COLUMNS:
            errors.append(RowError(1, column, "partner_csv_unknown_column", {"column": column}))
    for column in sorted(CSV_REQUIRED - set(header)):
        errors.append(RowError(1, column, "partner_csv_missing_column", {"column": column}))
    if len(set(header)) != len(header):
        errors.append(RowError(1, None, "partner_csv_duplicate_column"))
    if errors:
        raise CsvInvalid(errors)
    body = rows[1:]
    if len(body) > CSV_MAX_ROWS:
        raise CsvInvalid([RowError(0, None, "partner_csv_too_many_rows", {"max": CSV_MAX_ROWS})])
    drafts: list[PartnerDraft] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            errors.append(
                RowError(number, None, "partner_csv_column_count", {"expected": len(header)})
            )
            continue
        cells = dict(zip(header, row, strict=True))
        active_cell = cells.get("active", "").strip().lower()
        if active_cell not in _TRUE and active_cell not in _FALSE:
            errors.append(RowError(number, "active", "partner_csv_active_invalid"))
            continue
        try:
            draft = check_partner(
                name=cells["name"],
                level=cells["level"],
                specializations=split_list(cells["specializations"]),
                countries=split_list(cells.get("countries", "")),
                languages=split_list(cells["languages"]),
                contact_url=cells["contact_url"],
                email=cells["email"],
                description_en=cells["description_en"],
                description_ja=cells["description_ja"],
                active=active_cell in _TRUE,
            )
        except DomainError as error:
            errors.append(RowError(number, _ERROR_FIELD.get(error.code), error.code, error.params))
            continue
        if draft.name in seen:
            errors.append(
                RowError(
                    number, "name", "partner_csv_duplicate_name", {"first_row": seen[draft.name]}
                )
            )
            continue
        seen[draft.name] = number
        drafts.append(draft)
    if errors:
        raise CsvInvalid(errors)
    return drafts


def csv_cells(draft: PartnerDraft) -> list[str]:
    """A draft as a CSV row in ``CSV_COLUMNS`` order (the export of the admin page)."""
    return [
        draft.name,
        draft.level,
        ";".join(draft.specializations),
        ";".join(draft.countries),
        ";".join(draft.languages),
        draft.contact_url,
        draft.email,
        draft.description_en,
        draft.description_ja,
        "true" if draft.active else "false",
    ]


# --- matching and fair rotation ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    level: str
    specializations: tuple[str, ...]
    languages: tuple[str, ...]
    countries: tuple[str, ...]
    last_referred_at: datetime | None
    active: bool = True


def level_rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def match_key(
    candidate: Candidate, language: str | None, country: str | None
) -> tuple[bool, bool, int, bool, datetime | None, int]:
    """Smaller is better. Never-referred partners sort before referred ones."""
    return (
        language is not None and language not in candidate.languages,
        country is not None and country not in candidate.countries,
        level_rank(candidate.level),
        candidate.last_referred_at is not None,
        candidate.last_referred_at,
        candidate.id,
    )


def rank_partners(
    candidates: Iterable[Candidate],
    specialization: str,
    language: str | None,
    country: str | None,
    limit: int = CARD_SIZE,
) -> list[Candidate]:
    """The best ``limit`` partners for a card, best first (see the module docstring)."""
    qualified = [c for c in candidates if c.active and specialization in c.specializations]

    def key(candidate: Candidate) -> tuple[bool, bool, int, bool, datetime, int]:
        lang_miss, country_miss, level, referred, at, ident = match_key(
            candidate, language, country
        )
        return (lang_miss, country_miss, level, referred, at or datetime.min, ident)

    return sorted(qualified, key=key)[:limit]


def referral_stamps(chosen: Sequence[Candidate], now: datetime) -> dict[int, datetime]:
    """The rotation state a card at ``now`` leaves: each shown partner's
    ``last_referred_at``, one microsecond apart in card order. Equal partners then behave
    as a queue: a card takes the front of the queue and puts them at the back in the same
    order (with one shared stamp, the lower id would always win the next tie)."""
    return {c.id: now + timedelta(microseconds=index) for index, c in enumerate(chosen)}


def after_referral(
    candidates: Sequence[Candidate], chosen: Sequence[Candidate], now: datetime
) -> list[Candidate]:
    """The candidates with the rotation state a card at ``now`` leaves behind (for
    simulations in tests; the action writes the same stamps)."""
    stamps = referral_stamps(chosen, now)
    return [replace(c, last_referred_at=stamps[c.id]) if c.id in stamps else c for c in candidates]


# --- the lead e-mail -----------------------------------------------------------------------


def mail_locale(partner_languages: Sequence[str], customer_locale: str) -> str:
    """The lead e-mail's language: the customer's, when the partner works in it; else
    Japanese for a partner working in Japanese but not English; else English."""
    if customer_locale in ("ja", "en") and customer_locale in partner_languages:
        return customer_locale
    if "ja" in partner_languages and "en" not in partner_languages:
        return "ja"
    return "en"


def summary_of(subject: str, messages: Sequence[str], limit: int = 1500) -> str:
    """The conversation as the partner needs it: the subject, then the customer's own
    first messages, cut at ``limit`` characters."""
    parts = [subject.strip()] if subject.strip() else []
    for message in messages:
        text = message.strip()
        if text and text not in parts:
            parts.append(text)
    summary = "\n\n".join(parts)
    return summary if len(summary) <= limit else summary[: limit - 1] + "…"
