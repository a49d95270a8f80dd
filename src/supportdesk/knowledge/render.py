"""Markdown to safe HTML (markdown-it-py, then nh3), and Markdown to plain text.

Raw HTML in the Markdown is not rendered (``html=False`` escapes it), and nh3 (Ammonia)
then keeps only an allow-list of tags and attributes and drops URLs whose scheme is not
http, https or mailto: a ``<script>`` shows as text and a ``javascript:`` link loses its
``href``. Both steps run, so a mistake in one is caught by the other.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

_TAGS = {
    "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img",
    "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul", "del",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
}


def render_markdown(body: str) -> str:
    html = _md.render(body)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def plain_text(body: str) -> str:
    """The words a reader sees, without Markdown syntax (for indexing and snippets)."""
    parts: list[str] = []
    for token in _md.parse(body):
        if token.type == "inline" and token.children is not None:
            parts.extend(
                child.content
                for child in token.children
                if child.type in ("text", "code_inline") and child.content
            )
        elif token.type in ("fence", "code_block"):
            parts.append(token.content)
    return " ".join(" ".join(parts).split())
