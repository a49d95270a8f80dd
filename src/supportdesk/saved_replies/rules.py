"""Pure decisions about saved replies: who manages them and what a valid one looks like."""

from __future__ import annotations

import re
from dataclasses import dataclass

from supportdesk.core.auth import AgentPrincipal
from supportdesk.core.errors import forbidden, invalid
from supportdesk.core.i18n import Locale
from supportdesk.saved_replies.models import SHORTCUT_LENGTH, TITLE_LENGTH

# A reply is inserted into the composer as a message, so it must fit in one.
BODY_LENGTH = 5_000
SHORTCUT = re.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class ReplyDraft:
    """A saved reply as it will be stored, after normalising and checking."""

    shortcut: str
    title: str
    body: str
    locale: Locale


def can_manage(agent: AgentPrincipal) -> bool:
    """Supervisors (and admins) curate the replies; every agent may use them."""
    return agent.is_supervisor


def check_can_manage(agent: AgentPrincipal) -> None:
    if not can_manage(agent):
        raise forbidden()


def normalize_shortcut(value: str) -> str:
    """``" /Password "`` -> ``"password"``: people type the slash they use in the composer."""
    return value.strip().removeprefix("/").strip().lower()


def check_shortcut(value: str) -> str:
    shortcut = normalize_shortcut(value)
    if len(shortcut) > SHORTCUT_LENGTH or not SHORTCUT.fullmatch(shortcut):
        raise invalid("saved_reply_shortcut_invalid", limit=SHORTCUT_LENGTH)
    return shortcut


def check_title(value: str) -> str:
    title = " ".join(value.split())
    if not title:
        raise invalid("saved_reply_title_empty")
    if len(title) > TITLE_LENGTH:
        raise invalid("saved_reply_title_too_long", limit=TITLE_LENGTH)
    return title


def check_body(value: str, limit: int = BODY_LENGTH) -> str:
    """Surrounding blank lines go; the text's own line breaks are the reply's layout."""
    body = value.strip()
    if not body:
        raise invalid("saved_reply_body_empty")
    if len(body) > limit:
        raise invalid("saved_reply_body_too_long", length=len(body), limit=limit)
    return body


def check_reply(shortcut: str, title: str, body: str, locale: Locale) -> ReplyDraft:
    """Every field checked, in the order a form shows them."""
    return ReplyDraft(check_shortcut(shortcut), check_title(title), check_body(body), locale)
