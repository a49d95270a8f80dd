"""Every string the pages show, from Babel message catalogues.

``locales/<locale>/LC_MESSAGES/<domain>.po``, one domain per page area (``widget``,
``demo``, ``staff``, ``console``, ``supervisor``, ``replies``). The msgids are symbolic
codes (``console.queue.heading``) rather than English sentences, because the same codes
are looked up by the pages' JavaScript; ``{name}`` fields are filled by the page.

The ``.po`` files are read with Babel when first used and cached, so there is no compile
step and no ``.mo`` file to keep in sync. A unit test checks that every code exists in
both locales with the same fields. Error messages from the API are in ``core/i18n.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

from babel.messages.pofile import read_po

from supportdesk.core.i18n import LOCALES, Locale

LOCALES_DIR = Path(__file__).parent / "locales"


def domains() -> list[str]:
    """Every catalogue domain, from the English files."""
    return sorted(path.stem for path in (LOCALES_DIR / "en" / "LC_MESSAGES").glob("*.po"))


@cache
def catalogue(domain: str, locale: Locale) -> Mapping[str, str]:
    """code -> text for one domain and locale."""
    path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as file:
        po = read_po(file, locale=locale, domain=domain)
    return MappingProxyType({str(m.id): str(m.string) for m in po if m.id})


def page_strings(*page_domains: str) -> dict[str, dict[str, str]]:
    """``{"en": {...}, "ja": {...}}`` of the given domains, for a page to embed as JSON."""
    return {
        locale: {
            code: text
            for domain in page_domains
            for code, text in catalogue(domain, locale).items()
        }
        for locale in LOCALES
    }


def t(domain: str, code: str, locale: Locale, **fields: object) -> str:
    """One string, rendered server-side (``{name}`` fields filled)."""
    return catalogue(domain, locale)[code].format(**fields)
