"""The pages' Babel catalogues: both languages, the same fields, every code the pages use."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from supportdesk.core.i18n import LOCALES
from supportdesk.web import i18n

pytestmark = pytest.mark.unit

WEB = Path(i18n.__file__).parent
# Codes written literally in templates (data-i18n*="…") and scripts (t("…"), text("…")).
USED = re.compile(
    r"""data-i18n(?:-label|-placeholder)?="([\w.]+)"|\b(?:t|text)\(\s*"([\w.]+)"\s*[,)]"""
)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_there_are_catalogues() -> None:
    assert {"widget", "demo", "staff"} <= set(i18n.domains())


@pytest.mark.parametrize("domain", i18n.domains())
def test_every_code_has_both_languages_with_the_same_fields(domain: str) -> None:
    en, ja = (i18n.catalogue(domain, locale) for locale in ("en", "ja"))
    assert en, f"{domain}: empty catalogue"
    assert set(en) == set(ja), f"{domain}: codes differ: {set(en) ^ set(ja)}"
    for code in en:
        assert en[code].strip() and ja[code].strip(), f"{domain}: {code} is empty"
        assert fields(en[code]) == fields(ja[code]), f"{domain}: {code} fields differ"


def test_japanese_strings_are_japanese() -> None:
    """A guard against untranslated copies: most Japanese strings contain kana or kanji."""
    for domain in i18n.domains():
        ja = i18n.catalogue(domain, "ja")
        japanese = [
            text for text in ja.values() if re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text)
        ]
        assert len(japanese) >= 0.8 * len(ja), f"{domain}: too few Japanese strings"


def test_every_code_the_pages_use_exists() -> None:
    known = {code for domain in i18n.domains() for code in i18n.catalogue(domain, "en")}
    files = [*WEB.glob("templates/*.html"), *WEB.glob("static/*.js")]
    used = {
        (path.name, a or b)
        for path in files
        for a, b in USED.findall(path.read_text(encoding="utf-8"))
    }
    assert used, "the scan found no codes at all"
    missing = sorted((name, code) for name, code in used if code not in known)
    assert not missing, f"codes used by the pages but missing from the catalogues: {missing}"


def test_page_strings_merge_domains_per_locale() -> None:
    strings = i18n.page_strings("widget", "demo")
    assert set(strings) == set(LOCALES)
    assert strings["ja"]["ask.heading"] == "質問する"
    assert strings["en"]["demo.ask"] == "Ask a question"
    assert i18n.t("widget", "chat.queue", "en", position=3).endswith("number 3 in line.")
