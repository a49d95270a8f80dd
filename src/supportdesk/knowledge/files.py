"""Articles as a folder of Markdown files with YAML front matter (import and export).

One file per article and language, named ``<slug>.<locale>.md``::

    ---
    slug: workflow-approvers
    locale: ja
    title: 承認者を設定する
    category: workflows
    tags: [workflow, approval]
    status: published
    ---
    本文（Markdown）

The slug is the translation group: ``x.ja.md`` and ``x.en.md`` are one article's two
languages. Files are read in name order and every one is checked before anything is
written, so a bad file changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import frontmatter

from supportdesk.core.errors import DomainError
from supportdesk.knowledge import rules
from supportdesk.knowledge.models import Article


class ArticleFileError(ValueError):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")


def read_folder(folder: Path) -> list[rules.ArticleDraft]:
    drafts: list[rules.ArticleDraft] = []
    seen: set[tuple[str, str]] = set()
    for path in sorted(folder.rglob("*.md")):
        try:
            post = frontmatter.loads(path.read_text(encoding="utf-8"))
        except Exception as exc:  # YAML errors come in many types
            raise ArticleFileError(path, f"unreadable front matter: {exc}") from exc
        meta = post.metadata
        tags = meta.get("tags") or []
        if not isinstance(tags, list):
            raise ArticleFileError(path, "tags must be a list")
        try:
            draft = rules.check_article(
                str(meta.get("slug", "")),
                str(meta.get("locale", "")),
                str(meta.get("title", "")),
                post.content.strip() + "\n",
                str(meta.get("category", "")),
                [str(tag) for tag in tags],
                str(meta.get("status", "published")),
            )
        except DomainError as exc:
            raise ArticleFileError(path, exc.message("en")) from exc
        if (draft.slug, draft.locale) in seen:
            raise ArticleFileError(path, f"duplicate slug {draft.slug} ({draft.locale})")
        seen.add((draft.slug, draft.locale))
        drafts.append(draft)
    return drafts


def write_folder(folder: Path, articles: list[Article]) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for article in articles:
        post = frontmatter.Post(
            article.body.rstrip("\n") + "\n",
            slug=article.slug,
            locale=article.locale,
            title=article.title,
            category=article.category,
            tags=list(article.tags),
            status=article.status,
        )
        text = frontmatter.dumps(post, sort_keys=False, allow_unicode=True)
        (folder / f"{article.slug}.{article.locale}.md").write_text(text + "\n", encoding="utf-8")
    return len(articles)
