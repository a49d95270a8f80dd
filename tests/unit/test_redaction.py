"""The secret scanner, on the labelled corpus that ships with the tests
(tests/data/redaction_corpus.jsonl: one JSON object a line with ``lang``, ``text``,
``secrets`` (the exact substrings that must disappear) and ``kinds``; negatives have
neither), and on the properties the ingest path relies on."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode

from supportdesk.safety.echo import validation_message
from supportdesk.safety.logs import RedactingFilter
from supportdesk.safety.redaction import KINDS, PLACEHOLDERS, Redacted, redact

pytestmark = pytest.mark.unit

CORPUS_PATH = Path(__file__).resolve().parent.parent / "data" / "redaction_corpus.jsonl"
CORPUS: list[dict[str, Any]] = [
    json.loads(line) for line in CORPUS_PATH.read_text(encoding="utf-8").splitlines() if line
]
POSITIVES = [case for case in CORPUS if case["secrets"]]
NEGATIVES = [case for case in CORPUS if not case["secrets"]]
# The budget: at most one false positive on the negatives.
FALSE_POSITIVE_BUDGET = 1


def _label(case: dict[str, Any]) -> str:
    return f"{case['lang']}:{case['text'][:40]}"


# --- the corpus itself -------------------------------------------------------------


def test_corpus_is_large_enough_and_bilingual() -> None:
    assert len(POSITIVES) >= 40
    assert len(NEGATIVES) >= 40
    for group in (POSITIVES, NEGATIVES):
        languages = Counter(case["lang"] for case in group)
        assert languages["ja"] >= 15 and languages["en"] >= 15, languages


def test_corpus_covers_every_kind() -> None:
    covered = {kind for case in POSITIVES for kind in case["kinds"]}
    assert covered == set(KINDS)
    for case in POSITIVES:
        assert set(case["kinds"]) <= set(KINDS), case
        for secret in case["secrets"]:
            assert secret in case["text"], case


# --- positives and negatives ---------------------------------------------------------


@pytest.mark.parametrize("case", POSITIVES, ids=_label)
def test_every_positive_is_redacted_with_its_kind(case: dict[str, Any]) -> None:
    result = redact(case["text"])

    for secret in case["secrets"]:
        assert secret not in result.text, result.text
    assert sorted(result.kinds) == sorted(case["kinds"])
    for kind in case["kinds"]:
        assert PLACEHOLDERS[kind] in result.text


def test_false_positives_on_the_negatives_stay_within_budget() -> None:
    changed = [
        (case["text"], result.text)
        for case in NEGATIVES
        if (result := redact(case["text"])).kinds or result.text != case["text"]
    ]

    assert len(changed) <= FALSE_POSITIVE_BUDGET, (
        f"{len(changed)} false positives on {len(NEGATIVES)} negatives: {changed}"
    )


# --- behaviour the ingest path relies on -----------------------------------------------


def test_only_the_value_is_replaced_and_the_sentence_stays() -> None:
    assert redact("Hi, my password is Sunflower88 and I can't log in.") == Redacted(
        "Hi, my password is [password removed] and I can't log in.", ("password",)
    )
    assert redact("パスワードは「abc12345」です。") == Redacted(
        "パスワードは「[password removed]」です。", ("password",)
    )


def test_text_without_secrets_is_returned_unchanged() -> None:
    for text in ("", "Thanks, that fixed it!", "こんにちは。レポート画面が開けません。"):
        assert redact(text) == Redacted(text, ())


def test_kinds_are_listed_once_in_a_fixed_order() -> None:
    result = redact("card 4111 1111 1111 1111, password: Tr0ub4dor&3, again 5555-5555-5555-4444")
    assert result.kinds == ("password", "card_number")
    assert result.text.count("[card number removed]") == 2


def test_a_card_number_needs_luhn_an_issuer_and_no_url() -> None:
    assert redact("4111 1111 1111 1111").kinds == ("card_number",)
    assert redact("4111 1111 1111 1112").kinds == ()  # Luhn fails
    assert redact("9111 1111 1111 1111 5").kinds == ()  # no issuer starts with 9
    assert redact("https://shop.example.com/o/4111111111111111").kinds == ()
    assert redact("+81 4111 1111 1111 1111").kinds == ()  # after "+": a phone number


def test_webhook_urls_keep_their_host() -> None:
    result = redact("https://hooks.slack.com/services/T0/B0/s3cretS3cret and more")
    assert result.text == "https://hooks.slack.com/services/[webhook secret removed] and more"
    assert result.kinds == ("webhook_secret",)


@pytest.mark.parametrize("case", POSITIVES, ids=_label)
def test_redacting_twice_changes_nothing_more(case: dict[str, Any]) -> None:
    """A customer may paste a redacted message again: the placeholders stay as they are."""
    once = redact(case["text"]).text
    assert redact(once) == Redacted(once, ())


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            list("password:PW=は ４1１2 3-[]'\"パスワード暗証番号token=sk_live_abc0123 ?sig=.")
        ),
        max_size=80,
    )
)
def test_any_text_is_redacted_without_error_and_stably(text: str) -> None:
    once = redact(text)
    assert set(once.kinds) <= set(KINDS)
    assert redact(once.text).text == once.text


# --- the log filter and validation messages ------------------------------------------------


def _record(msg: str, *args: Any) -> logging.LogRecord:
    return logging.LogRecord("uvicorn.error", logging.DEBUG, __file__, 1, msg, args, None)


def test_the_log_filter_drops_websocket_frame_payloads() -> None:
    frame = Frame(Opcode.TEXT, b'{"type":"message.send","body":"my password is Sunflower88"}')
    record = _record("< %s", frame)

    assert RedactingFilter().filter(record)
    assert record.getMessage() == f"< TEXT [{len(frame.data)} bytes]"


def test_the_log_filter_redacts_other_lines() -> None:
    record = _record('%s - "GET /api/v1/x?token=%s HTTP/1.1" 200', "127.0.0.1", "abcdef123456")

    assert RedactingFilter().filter(record)
    assert "abcdef123456" not in record.getMessage()
    assert "[webhook secret removed]" in record.getMessage()


def test_validation_messages_do_not_echo_the_input() -> None:
    secret = "my password is Sunflower88"
    tag_error = {
        "msg": f"Input tag '{secret}' found using 'type' does not match any of the expected tags",
        "input": {"type": secret},
        "ctx": {"tag": secret},
    }
    value_error = {"msg": f"Value error, {secret} is not allowed", "input": secret}

    for error in (tag_error, value_error):
        assert "Sunflower88" not in validation_message(error)
    assert validation_message({"msg": "Input should be a valid string", "input": 3}) == (
        "Input should be a valid string"
    )
