"""The bilingual message catalogue, locale negotiation and the shape of domain errors."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

import supportdesk
from supportdesk.core.errors import DomainError, conflict, forbidden, invalid, not_found
from supportdesk.core.i18n import (
    LOCALES,
    MESSAGES,
    locale_from_accept_language,
    normalize_locale,
    translate,
)
from supportdesk.identity.rules import eligibility

from ._builders import customer

pytestmark = pytest.mark.unit

JAPANESE = re.compile(r"[\u3040-\u309f\u30a0-\u30ff\u4e00-\u9fff]")
SOURCE = Path(supportdesk.__file__).parent


def format_fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# --- catalogue --------------------------------------------------------------------


def test_supported_locales_are_japanese_and_english() -> None:
    assert set(LOCALES) == {"ja", "en"}


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_code_has_japanese_and_english_text(code: str) -> None:
    texts = MESSAGES[code]

    assert set(texts) == {"ja", "en"}
    assert texts["ja"].strip()
    assert texts["en"].strip()


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_japanese_text_is_japanese(code: str) -> None:
    assert JAPANESE.search(MESSAGES[code]["ja"]), MESSAGES[code]["ja"]
    assert not JAPANESE.search(MESSAGES[code]["en"]), MESSAGES[code]["en"]


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_both_languages_use_the_same_format_fields(code: str) -> None:
    assert format_fields(MESSAGES[code]["ja"]) == format_fields(MESSAGES[code]["en"])


def test_every_error_code_raised_in_the_source_has_a_message() -> None:
    pattern = re.compile(r'\b(?:invalid|conflict|forbidden|DomainError)\(\s*"([a-z_]+)"')
    used = {
        code
        for path in SOURCE.rglob("*.py")
        for code in pattern.findall(path.read_text(encoding="utf-8"))
    }

    assert used, "the scan found no error codes; the pattern is out of date"
    assert used - set(MESSAGES) == set()


def test_every_eligibility_refusal_has_a_message() -> None:
    refusals = [
        eligibility(customer(role="admin", commercial=False)),
        eligibility(customer(role="user", commercial=True)),
    ]

    for result in refusals:
        assert result.reason in MESSAGES


def test_translate_fills_params_and_leaves_missing_ones_visible() -> None:
    filled = translate("message_too_long", "en", {"length": 12, "limit": 10})
    missing = translate("message_too_long", "ja", {"length": 12})

    assert "12" in filled
    assert "10" in filled
    assert "12" in missing
    assert "{limit}" in missing


def test_translate_of_an_unknown_code_falls_back_to_internal_error() -> None:
    assert translate("no_such_code", "ja") == MESSAGES["internal_error"]["ja"]


# --- locales ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ja", "ja"),
        ("JA", "ja"),
        ("ja-JP", "ja"),
        ("ja_JP", "ja"),
        (" ja-jp ", "ja"),
        ("en", "en"),
        ("en-US", "en"),
        ("en_GB", "en"),
        ("fr-FR", "en"),
        ("jav", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_normalize_locale(value: str | None, expected: str) -> None:
    assert normalize_locale(value) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("ja", "ja"),
        ("ja-JP,ja;q=0.9,en;q=0.8", "ja"),
        ("en-US,en;q=0.9,ja;q=0.8", "en"),
        ("fr-FR, ja;q=0.8, en;q=0.5", "ja"),
        ("ja;q=0.3, en;q=0.7", "en"),
        ("en, ja", "en"),
        ("JA-jp", "ja"),
        ("fr, de;q=0.9", None),
        ("*", None),
        ("ja;q=oops, en;q=0.1", "en"),
    ],
)
def test_locale_from_accept_language(header: str | None, expected: str | None) -> None:
    assert locale_from_accept_language(header) == expected


def test_accept_language_quality_zero_means_not_acceptable() -> None:
    # RFC 9110 §12.4.2: "q=0" marks a language the user does not want.
    assert locale_from_accept_language("fr, ja;q=0") is None


# --- domain errors ----------------------------------------------------------------


def test_domain_error_refuses_an_unknown_code() -> None:
    with pytest.raises(ValueError, match="no_such_code"):
        DomainError("no_such_code", 400)


def test_helpers_refuse_unknown_codes_too() -> None:
    with pytest.raises(ValueError):
        invalid("no_such_code")
    with pytest.raises(ValueError):
        conflict("no_such_code")
    with pytest.raises(ValueError):
        forbidden("no_such_code")


def test_helpers_set_the_status() -> None:
    assert not_found().status == 404
    assert forbidden().status == 403
    assert invalid("message_empty").status == 422
    assert conflict("already_rated").status == 409


def test_body_in_japanese() -> None:
    error = invalid("message_too_long", length=12, limit=10)

    body = error.body("ja")

    assert body == {
        "error": {
            "code": "message_too_long",
            "message": "メッセージが長すぎます（12 文字）。上限は 10 文字です。",
        }
    }


def test_body_in_english_uses_the_english_text() -> None:
    body = not_found().body("en")

    assert body == {"error": {"code": "not_found", "message": "Not found."}}


def test_body_includes_extra_fields() -> None:
    error = DomainError("already_rated", 409, extra={"agent_id": 7})

    assert error.body("en")["error"] == {
        "code": "already_rated",
        "message": MESSAGES["already_rated"]["en"],
        "agent_id": 7,
    }


def test_domain_error_str_is_its_code() -> None:
    assert str(forbidden("conversation_read_only")) == "conversation_read_only"


def test_fields_given_in_both_languages_are_filled_in_the_messages_language() -> None:
    from supportdesk.core.i18n import ATTACHMENT_KIND_NAMES, translate

    fields = {"kind": ATTACHMENT_KIND_NAMES["image"], "size": "21 MB", "limit": "20 MB"}
    assert "画像の添付の上限は 20 MB" in translate("attachment_too_large", "ja", fields)
    assert "limit for image attachments is 20 MB" in translate("attachment_too_large", "en", fields)
