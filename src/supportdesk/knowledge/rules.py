"""Pure decisions about articles: what a valid article is, who edits, who sees what."""

from __future__ import annotations

import re
from dataclasses import dataclass

from supportdesk.core.auth import AgentPrincipal, Principal, Role
from supportdesk.core.errors import forbidden, invalid

SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,119}")
TITLE_LENGTH = 200
BODY_LENGTH = 100_000
CATEGORY_LENGTH = 60
TAG_LENGTH = 40
MAX_TAGS = 20
QUERY_LENGTH = 200
MAX_SUGGESTIONS = 10
LOCALES = ("ja", "en")
STATUSES = ("draft", "published")  # what an editor or an import may set
ARCHIVED = "archived"  # set by deleting; saving with a status above restores
EDITABLE = ("title", "body", "category", "tags", "status")


@dataclass(frozen=True, slots=True)
class ArticleDraft:
    slug: str
    locale: str
    title: str
    body: str
    category: str
    tags: tuple[str, ...]
    status: str


def check_article(
    slug: str,
    locale: str,
    title: str,
    body: str,
    category: str,
    tags: list[str] | tuple[str, ...],
    status: str,
) -> ArticleDraft:
    if not SLUG_PATTERN.fullmatch(slug):
        raise invalid("kb_slug_invalid")
    if locale not in LOCALES:
        raise invalid("kb_locale_invalid")
    title = " ".join(title.split())
    if not title or len(title) > TITLE_LENGTH:
        raise invalid("kb_title_invalid", max=TITLE_LENGTH)
    if len(body) > BODY_LENGTH:
        raise invalid("kb_body_too_long", max=BODY_LENGTH)
    category = category.strip()
    if not category or len(category) > CATEGORY_LENGTH:
        raise invalid("kb_category_invalid", max=CATEGORY_LENGTH)
    cleaned = tuple(dict.fromkeys(tag.strip() for tag in tags if tag.strip()))
    if len(cleaned) > MAX_TAGS or any(len(tag) > TAG_LENGTH for tag in cleaned):
        raise invalid("kb_tags_invalid", max=MAX_TAGS, length=TAG_LENGTH)
    if status not in STATUSES:
        raise invalid("kb_status_invalid")
    return ArticleDraft(slug, locale, title, body, category, cleaned, status)


def changed_fields(current: ArticleDraft, new: ArticleDraft) -> list[str]:
    """The editable fields that differ (an unchanged save makes no new version)."""
    return [name for name in EDITABLE if getattr(current, name) != getattr(new, name)]


def can_edit(agent: AgentPrincipal) -> bool:
    return agent.has(Role.ADMIN, Role.SUPERVISOR)


def check_can_edit(agent: AgentPrincipal) -> None:
    if not can_edit(agent):
        raise forbidden("kb_edit_forbidden")


def visible_statuses(principal: Principal, include_drafts: bool = False) -> tuple[str, ...]:
    """Customers only ever see published articles; editors may ask for drafts (and deleted
    articles, which they may restore) too."""
    if include_drafts and isinstance(principal, AgentPrincipal) and can_edit(principal):
        return (*STATUSES, ARCHIVED)
    return ("published",)


def locale_order(preferred: str) -> tuple[str, str]:
    """The caller's language first, the other one as the fallback."""
    return ("ja", "en") if preferred == "ja" else ("en", "ja")


def check_query(q: str) -> str:
    q = " ".join(q.split())
    if len(q) > QUERY_LENGTH:
        raise invalid("kb_query_too_long", max=QUERY_LENGTH)
    return q


def check_suggestions(article_ids: list[int]) -> list[int]:
    ids = list(dict.fromkeys(article_ids))
    if len(ids) > MAX_SUGGESTIONS:
        raise invalid("kb_too_many_suggestions", max=MAX_SUGGESTIONS)
    return ids


def check_deflection_query(query: str) -> str:
    query = " ".join(query.split())
    if len(query) > 500:
        raise invalid("kb_query_too_long", max=500)
    return query
