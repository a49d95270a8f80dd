"""Article search behind one interface, so that an external engine could replace it.

Both engines index *pre-analysed* text (``knowledge.analysis``): four fields of
space-separated tokens, the title's and the body's words and the title's and the body's
grams. Neither engine's own word splitting ever sees raw Japanese: SQLite FTS5 uses
``unicode61`` over the tokens (its trigram tokenizer matches nothing under three
characters) and PostgreSQL gets ``tsvector``/``tsquery`` literals built here (no parser, no
dictionary: the ``simple`` behaviour over our tokens), with weights A/B for the title/body
words and C/D for the title/body grams, and a GIN index.

A query runs in stages, each ranked by the engine (BM25 on FTS5, ``ts_rank`` with the
weights on PostgreSQL) and appended without repeating an article:

1. every query word in the word fields (title boosted);
2. every query gram in the gram fields (a one-character Japanese run or the last Latin
   word matches as a prefix, for typing and for words the dictionary does not know);
3. any query word, for long questions.

Latin words that are in no article are first corrected to the closest indexed word
(rapidfuzz), so "permsission" still finds "permission".

The index tables are created by ``ensure()`` and can be rebuilt from the articles at any
time (``supportdesk kb reindex``); they are not in the migrations because they belong to
the engine.
"""

from __future__ import annotations

import html
import re
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.core.db import Database
from supportdesk.knowledge.analysis import Analysed, Token, analyse, joined

VOCABULARY_TTL = 60.0  # seconds a cached vocabulary for typo correction is trusted
_PG_MAX_POSITION = 16383


@dataclass(frozen=True, slots=True)
class IndexDoc:
    article_id: int
    locale: str
    status: str
    title: str
    body_text: str  # plain text (Markdown already removed)


@dataclass(frozen=True, slots=True)
class Hit:
    article_id: int
    stage: int  # 1 = words, 2 = grams, 3 = any word
    score: float  # higher is better, comparable only within a stage


@dataclass(frozen=True, slots=True)
class Query:
    words: list[str]
    grams: list[str]
    prefixes: list[str]  # grams that match as prefixes

    @property
    def empty(self) -> bool:
        return not (self.words or self.grams or self.prefixes)


@dataclass(frozen=True, slots=True)
class Fields:
    title_words: str
    body_words: str
    title_grams: str
    body_grams: str

    @classmethod
    def of(cls, doc: IndexDoc) -> Fields:
        title, body = analyse(doc.title), analyse(doc.body_text)
        return cls(joined(title.words), joined(body.words), joined(title.grams), joined(body.grams))


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def build_query(raw: str) -> Query:
    """The analysed query: the same analyser as the index, plus prefix rules for recall."""
    analysed = analyse(raw)
    words = _unique(t.term for t in analysed.words)
    grams: list[str] = []
    prefixes: list[str] = []
    for run in analysed.ja_runs:
        if len(run) == 1:
            prefixes.append(run)
        else:
            grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    latin = analysed.latin_words
    if latin:
        grams.extend(latin[:-1])
        # The last Latin word may still be being typed.
        prefixes.append(latin[-1])
    return Query(words, _unique(grams), _unique(prefixes))


class SearchIndex(ABC):
    """What the knowledge base needs from a search engine."""

    def __init__(self) -> None:
        self._ready = False
        self._vocabulary: list[str] = []
        self._vocabulary_set: frozenset[str] = frozenset()
        self._vocabulary_at = 0.0

    @property
    def ready(self) -> bool:
        return self._ready

    async def ensure(self, session: AsyncSession) -> None:
        if not self._ready:
            await self._create(session)
            self._ready = True

    @abstractmethod
    async def _create(self, session: AsyncSession) -> None: ...

    @abstractmethod
    async def upsert(self, session: AsyncSession, docs: Sequence[IndexDoc]) -> None: ...

    @abstractmethod
    async def clear(self, session: AsyncSession) -> None: ...

    @abstractmethod
    async def _stage(
        self,
        session: AsyncSession,
        stage: int,
        query: Query,
        locale: str,
        statuses: Sequence[str],
        limit: int,
    ) -> list[Hit]: ...

    @abstractmethod
    async def _load_vocabulary(self, session: AsyncSession) -> list[str]: ...

    @abstractmethod
    async def size_bytes(self, session: AsyncSession) -> int: ...

    def forget_vocabulary(self) -> None:
        self._vocabulary_at = 0.0

    async def corrections(self, session: AsyncSession, raw: str) -> dict[str, str]:
        """Latin query words that are in no article, mapped to the closest indexed word."""
        latin = [w for w in analyse(raw, with_words=False).latin_words if len(w) >= 4]
        if not latin:
            return {}
        if time.monotonic() - self._vocabulary_at > VOCABULARY_TTL:
            self._vocabulary = await self._load_vocabulary(session)
            self._vocabulary_set = frozenset(self._vocabulary)
            self._vocabulary_at = time.monotonic()
        fixed: dict[str, str] = {}
        for word in latin:
            if word in self._vocabulary_set or word.isdigit():
                continue
            best = process.extractOne(word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=75)
            if best is not None:
                fixed[word] = best[0]
        return fixed

    async def corrected(self, session: AsyncSession, raw: str) -> str:
        """The query with its unknown Latin words replaced by the closest indexed words."""
        fixes = await self.corrections(session, raw)
        if not fixes:
            return raw
        return re.sub(r"[A-Za-z]+", lambda m: fixes.get(m.group().lower(), m.group()), raw)

    async def search(
        self,
        session: AsyncSession,
        raw: str,
        *,
        locale: str,
        statuses: Sequence[str],
        limit: int,
    ) -> list[Hit]:
        """Hits for ``raw`` as given (call ``corrected`` first for typo tolerance)."""
        await self.ensure(session)
        query = build_query(raw)
        if query.empty:
            return []
        hits: list[Hit] = []
        seen: set[int] = set()
        for stage in (1, 2, 3):
            if stage == 1 and not query.words:
                continue
            if stage == 3 and len(query.words) < 2:
                continue
            if stage == 2 and not (query.grams or query.prefixes):
                continue
            for hit in await self._stage(session, stage, query, locale, statuses, limit):
                if hit.article_id not in seen:
                    seen.add(hit.article_id)
                    hits.append(hit)
            if len(hits) >= limit:
                break
        return hits[:limit]


# --- SQLite FTS5 -------------------------------------------------------------------------


def _fts_phrase(token: str, prefix: bool = False) -> str:
    return f'"{token}"' + ("*" if prefix else "")


class SqliteFtsIndex(SearchIndex):
    async def _create(self, session: AsyncSession) -> None:
        await session.execute(
            text(
                "CREATE VIRTUAL TABLE IF NOT EXISTS kb_fts USING fts5("
                "title_words, body_words, title_grams, body_grams, facets, "
                "tokenize = 'unicode61 remove_diacritics 0')"
            )
        )
        await session.execute(
            text("CREATE VIRTUAL TABLE IF NOT EXISTS kb_fts_vocab USING fts5vocab(kb_fts, 'col')")
        )

    async def upsert(self, session: AsyncSession, docs: Sequence[IndexDoc]) -> None:
        if not docs:
            return
        await self.ensure(session)
        rows = []
        for doc in docs:
            f = Fields.of(doc)
            rows.append(
                {
                    "id": doc.article_id,
                    "tw": f.title_words,
                    "bw": f.body_words,
                    "tg": f.title_grams,
                    "bg": f.body_grams,
                    "facets": f"{doc.locale} {doc.status}",
                }
            )
        await session.execute(
            text("DELETE FROM kb_fts WHERE rowid = :id"), [{"id": r["id"]} for r in rows]
        )
        await session.execute(
            text(
                "INSERT INTO kb_fts (rowid, title_words, body_words, title_grams, body_grams, "
                "facets) VALUES (:id, :tw, :bw, :tg, :bg, :facets)"
            ),
            rows,
        )
        self.forget_vocabulary()

    async def clear(self, session: AsyncSession) -> None:
        await self.ensure(session)
        await session.execute(text("DELETE FROM kb_fts"))

    async def _stage(
        self,
        session: AsyncSession,
        stage: int,
        query: Query,
        locale: str,
        statuses: Sequence[str],
        limit: int,
    ) -> list[Hit]:
        if stage == 2:
            terms = [_fts_phrase(g) for g in query.grams]
            terms += [_fts_phrase(p, prefix=True) for p in query.prefixes]
            match = "{title_grams body_grams} : (" + " AND ".join(terms) + ")"
            weights = "0, 0, 4.0, 1.0, 0"
        else:
            glue = " AND " if stage == 1 else " OR "
            match = (
                "{title_words body_words} : ("
                + glue.join(_fts_phrase(w) for w in query.words)
                + ")"
            )
            weights = "5.0, 1.0, 0, 0, 0"
        # Language and status are tokens of the indexed ``facets`` column, so the filter is
        # answered from the index; as UNINDEXED columns every match's stored row had to be
        # read (hundreds of milliseconds for common words at 100,000 articles).
        wanted = " OR ".join(_fts_phrase(status) for status in statuses)
        match = f"({match}) AND facets : {_fts_phrase(locale)} AND facets : ({wanted})"
        result = await session.execute(
            text(
                f"SELECT rowid, bm25(kb_fts, {weights}) AS rank FROM kb_fts "
                "WHERE kb_fts MATCH :match ORDER BY rank LIMIT :limit"
            ),
            {"match": match, "limit": limit},
        )
        return [Hit(int(row[0]), stage, -float(row[1])) for row in result]

    async def _load_vocabulary(self, session: AsyncSession) -> list[str]:
        await self.ensure(session)
        rows = await session.execute(
            text(
                "SELECT DISTINCT term FROM kb_fts_vocab WHERE col IN ('title_grams', 'body_grams') "
                "AND term GLOB '[a-z][a-z][a-z]*'"
            )
        )
        return [str(row[0]) for row in rows]

    async def size_bytes(self, session: AsyncSession) -> int:
        # The dbstat table may be missing from the build; page counts of the shadow tables.
        total = 0
        for table in ("kb_fts_data", "kb_fts_idx", "kb_fts_content", "kb_fts_docsize"):
            try:
                value = await session.scalar(
                    text("SELECT SUM(pgsize) FROM dbstat WHERE name = :name"), {"name": table}
                )
            except Exception:  # dbstat not compiled in
                return -1
            total += int(value or 0)
        return total


# --- PostgreSQL full-text search -----------------------------------------------------------


def _lexeme(token: str) -> str:
    # Tokens are word characters only; quoting keeps them from being read as operators.
    return "'" + token.replace("'", "''").replace("\\", "\\\\") + "'"


def tsvector_literal(fields: Sequence[tuple[str, list[str]]]) -> str:
    """A ``tsvector`` literal with positions and weights, built without PostgreSQL's parser."""
    positions: dict[str, list[str]] = {}
    position = 0
    for weight, tokens in fields:
        for token in tokens:
            position = min(position + 1, _PG_MAX_POSITION)
            positions.setdefault(token, []).append(f"{position}{weight}")
    return " ".join(
        f"{_lexeme(term)}:{','.join(places[:256])}" for term, places in positions.items()
    )


class PostgresFtsIndex(SearchIndex):
    async def _create(self, session: AsyncSession) -> None:
        await session.execute(
            text(
                "CREATE TABLE IF NOT EXISTS kb_search ("
                "article_id BIGINT PRIMARY KEY, locale VARCHAR(8) NOT NULL, "
                "status VARCHAR(12) NOT NULL, doc TSVECTOR NOT NULL)"
            )
        )
        await session.execute(
            text("CREATE INDEX IF NOT EXISTS ix_kb_search_doc ON kb_search USING GIN (doc)")
        )

    async def upsert(self, session: AsyncSession, docs: Sequence[IndexDoc]) -> None:
        if not docs:
            return
        await self.ensure(session)
        rows = []
        for doc in docs:
            f = Fields.of(doc)
            literal = tsvector_literal(
                [
                    ("A", f.title_words.split()),
                    ("B", f.body_words.split()),
                    ("C", f.title_grams.split()),
                    ("D", f.body_grams.split()),
                ]
            )
            rows.append(
                {"id": doc.article_id, "locale": doc.locale, "status": doc.status, "doc": literal}
            )
        await session.execute(
            text(
                "INSERT INTO kb_search (article_id, locale, status, doc) "
                "VALUES (:id, :locale, :status, CAST(:doc AS tsvector)) "
                "ON CONFLICT (article_id) DO UPDATE SET locale = EXCLUDED.locale, "
                "status = EXCLUDED.status, doc = EXCLUDED.doc"
            ),
            rows,
        )
        self.forget_vocabulary()

    async def clear(self, session: AsyncSession) -> None:
        await self.ensure(session)
        await session.execute(text("DELETE FROM kb_search"))

    async def _stage(
        self,
        session: AsyncSession,
        stage: int,
        query: Query,
        locale: str,
        statuses: Sequence[str],
        limit: int,
    ) -> list[Hit]:
        if stage == 2:
            terms = [f"{_lexeme(g)}:CD" for g in query.grams]
            terms += [f"{_lexeme(p)}:*CD" for p in query.prefixes]
            tsquery = " & ".join(terms)
        else:
            glue = " & " if stage == 1 else " | "
            tsquery = glue.join(f"{_lexeme(w)}:AB" for w in query.words)
        result = await session.execute(
            text(
                "SELECT article_id, ts_rank('{0.1, 0.25, 0.4, 1.0}', doc, q, 1) AS rank "
                "FROM kb_search, CAST(:q AS tsquery) AS q "
                "WHERE doc @@ q AND locale = :locale AND status = ANY(:statuses) "
                "ORDER BY rank DESC, article_id LIMIT :limit"
            ),
            {"q": tsquery, "locale": locale, "statuses": list(statuses), "limit": limit},
        )
        return [Hit(int(row[0]), stage, float(row[1])) for row in result]

    async def _load_vocabulary(self, session: AsyncSession) -> list[str]:
        await self.ensure(session)
        rows = await session.execute(
            text(
                "SELECT word FROM ts_stat('SELECT doc FROM kb_search', 'CD') "
                "WHERE word ~ '^[a-z]{3,}$'"
            )
        )
        return [str(row[0]) for row in rows]

    async def size_bytes(self, session: AsyncSession) -> int:
        value = await session.scalar(text("SELECT pg_total_relation_size('kb_search')"))
        return int(value or 0)


_indexes: weakref.WeakKeyDictionary[Database, SearchIndex] = weakref.WeakKeyDictionary()


def index_for(db: Database) -> SearchIndex:
    """The search index of this database's engine (one object per database)."""
    index = _indexes.get(db)
    if index is None:
        index = SqliteFtsIndex() if db.is_sqlite else PostgresFtsIndex()
        _indexes[db] = index
    return index


# --- Snippets ------------------------------------------------------------------------------


def snippet(body_text: str, raw_query: str, size: int = 160) -> str:
    """A window of the body around the first match, HTML-escaped, matches in ``<mark>``.

    Offsets come from the same analyser as the index: a body word matches when its
    normalised form is a query word (「設定し」 for 「設定する」), and a Japanese run or a
    Latin word of the query also matches where it occurs literally (the gram stage).
    """
    analysed = analyse(body_text)
    query = analyse(raw_query)
    words = {t.term for t in query.words}
    spans = [(t.start, t.end) for t in analysed.words if t.term in words]
    lowered = analysed.text.lower()
    for needle in [*query.ja_runs, *query.latin_words]:
        if not needle:
            continue
        spans.extend((m.start(), m.end()) for m in re.finditer(re.escape(needle), lowered))
    spans = _merge(sorted(spans))
    text_ = analysed.text
    if not spans:
        return html.escape(text_[:size]) + ("…" if len(text_) > size else "")
    first = spans[0][0]
    start = max(0, first - size // 4)
    end = min(len(text_), start + size)
    out: list[str] = ["…" if start > 0 else ""]
    cursor = start
    for s, e in spans:
        if s < start or s >= end:
            continue
        e = min(e, end)
        out.append(html.escape(text_[cursor:s]))
        out.append("<mark>" + html.escape(text_[s:e]) + "</mark>")
        cursor = e
    out.append(html.escape(text_[cursor:end]))
    if end < len(text_):
        out.append("…")
    return "".join(out)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


__all__ = [
    "Analysed",
    "Hit",
    "IndexDoc",
    "PostgresFtsIndex",
    "SearchIndex",
    "SqliteFtsIndex",
    "Token",
    "index_for",
    "snippet",
]
