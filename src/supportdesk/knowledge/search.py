"""Article search behind one interface, so that an external engine could replace it.

Both engines index *pre-analysed* text (``knowledge.analysis``): four fields of
space-separated tokens, the title's and the body's words and the title's and the body's
grams. Neither engine's own word splitting ever sees raw Japanese: SQLite FTS5 uses
``unicode61`` over the tokens (its trigram tokenizer matches nothing under three
characters) and PostgreSQL gets ``tsvector``/``tsquery`` literals built here (no parser, no
dictionary: the ``simple`` behaviour over our tokens), with weights A/B for the title/body
words and C/D for the title/body grams, under GIN indexes. Each engine's class says how it
lays the fields out and why.

A query runs in stages, each ranked by the engine (BM25 on FTS5, ``ts_rank`` with the
weights on PostgreSQL) and appended without repeating an article:

1. every query word in the word fields (title boosted);
2. every query gram in the gram fields (a one-character Japanese run or the last Latin
   word matches as a prefix, for typing and for words the dictionary does not know);
3. any query word, for long questions.

Each stage ranks at most ``CANDIDATES`` matches (see below), so a one-letter prefix over
100,000 articles costs about as much as a rare word; when a stage has more matches than
that, the best title matches come first, then the others, newest first.

Latin words that are in no article are first corrected to the closest indexed word
(rapidfuzz), so "permsission" still finds "permission".

The index tables are created by ``ensure()`` and can be rebuilt from the articles at any
time (``supportdesk kb reindex``); they are not in the migrations because they belong to
the engine.
"""

from __future__ import annotations

import asyncio
import html
import multiprocessing
import re
import time
import weakref
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

from rapidfuzz import fuzz, process
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.core.db import Database
from supportdesk.core.i18n import LOCALES
from supportdesk.knowledge.analysis import Analysed, Token, analyse, index_terms
from supportdesk.knowledge.models import Status

INDEXED_STATUSES = (Status.DRAFT.value, Status.PUBLISHED.value)  # deleted articles are not
_VOCABULARY_WORD = re.compile(r"[a-z]{3,}")  # Latin words that typo correction may suggest
VOCABULARY_TTL = 60.0  # seconds a cached vocabulary for typo correction is trusted
# Neither engine can stop ranking early (no block-max WAND), so a query that matches most of
# a large knowledge base would rank every match: each pass ranks at most this many of its
# matches, the newest (on PostgreSQL each one is a TOASTed vector read back, 10-15 us).
# When a stage has more matches, its title matches are ranked in a pass of their own and
# come first, so a title match is never lost behind thousands of bodies.
CANDIDATES = 300
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
        title_words, title_grams = index_terms(doc.title)
        body_words, body_grams = index_terms(doc.body_text)
        return cls(title_words, body_words, title_grams, body_grams)


def analyse_batch(docs: Sequence[IndexDoc]) -> list[Fields]:
    """The fields of each document (module level, so worker processes can run it)."""
    return [Fields.of(doc) for doc in docs]


Prepare = Callable[[Sequence[IndexDoc]], list[Any]]


async def prepared_batches(
    batches: AsyncIterator[Sequence[IndexDoc]], prepare: Prepare, workers: int
) -> AsyncIterator[list[Any]]:
    """``prepare`` of each batch, run in ``workers`` processes, in order.

    The analysis (SudachiPy above all) and the engine's row building are the bulk of a
    rebuild and hold the GIL, so a rebuild spreads them over processes; up to
    ``workers + 1`` batches are in flight while the caller writes the finished ones.
    ``prepare`` must be a module-level function; ``workers <= 1`` runs it here."""
    if workers <= 1:
        async for docs in batches:
            yield prepare(docs)
        return
    loop = asyncio.get_running_loop()
    # spawn, not fork: this process has threads (the SQLite driver's, the event loop's).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[asyncio.Future[list[Any]]] = deque()
        async for docs in batches:
            pending.append(loop.run_in_executor(pool, prepare, docs))
            if len(pending) > workers:
                yield await pending.popleft()
        while pending:
            yield await pending.popleft()


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

    # What a worker process makes of a batch for ``_load``: the engine's rows.
    prepare: Prepare

    @abstractmethod
    async def upsert(self, session: AsyncSession, docs: Sequence[IndexDoc]) -> None:
        """Add or replace ``docs``."""

    @abstractmethod
    async def _load(self, session: AsyncSession, rows: list[Any]) -> None:
        """Write one prepared batch of a rebuild (the index was emptied first)."""

    @abstractmethod
    async def clear(self, session: AsyncSession) -> None: ...

    @abstractmethod
    async def delete(self, session: AsyncSession, article_ids: Sequence[int]) -> None: ...

    @abstractmethod
    async def is_empty(self, session: AsyncSession) -> bool: ...

    async def rebuild(
        self, session: AsyncSession, batches: AsyncIterator[Sequence[IndexDoc]], workers: int
    ) -> int:
        """Replace the whole index with ``batches`` (prepared in ``workers`` processes);
        the number of documents indexed."""
        await self.clear(session)
        count = 0
        async for rows in prepared_batches(batches, self.prepare, workers):
            await self._load(session, rows)
            count += len(rows)
        await self._after_rebuild(session)
        return count

    @abstractmethod
    async def _after_rebuild(self, session: AsyncSession) -> None:
        """Tidy the engine's structures after a bulk load."""

    @abstractmethod
    async def _stage(
        self,
        session: AsyncSession,
        stage: int,
        titles_only: bool,
        query: Query,
        locale: str,
        statuses: Sequence[str],
        limit: int,
    ) -> tuple[list[Hit], bool]:
        """At most ``limit`` hits of one stage, best first, ranked among at most
        ``CANDIDATES`` matches (the newest), and whether there were more matches."""

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
            found, capped = await self._stage(session, stage, False, query, locale, statuses, limit)
            if capped:
                # Too many matches to rank them all: the best titles first.
                titles, _ = await self._stage(session, stage, True, query, locale, statuses, limit)
                found = titles + found
            for hit in found:
                if hit.article_id not in seen:
                    seen.add(hit.article_id)
                    hits.append(hit)
            if len(hits) >= limit:
                break
        return hits[:limit]


# --- SQLite FTS5 -------------------------------------------------------------------------


def _fts_phrase(token: str, prefix: bool = False) -> str:
    return f'"{token}"' + ("*" if prefix else "")


# An entry's rowid is its article id plus the start of its (locale, status) partition, so a
# search in one language and status reads one rowid range of the index. As tokens of an
# indexed column, language and status cost a lookup in two posting lists of half the index
# each, for every pass of every query (bm25 weighs every phrase of the MATCH, filters too).
_PARTITION_BITS = 40  # article ids stay below 2**40
_PARTITIONS: list[tuple[str, str]] = [
    (locale, status) for locale in LOCALES for status in INDEXED_STATUSES
]


def _partition_start(locale: str, status: str) -> int:
    return _PARTITIONS.index((locale, status)) << _PARTITION_BITS


def _rowid_range(locale: str, statuses: Sequence[str]) -> tuple[int, int] | None:
    """The rowids of ``locale`` in ``statuses`` (the statuses of one locale are adjacent)."""
    starts = [_partition_start(locale, s) for s in statuses if (locale, s) in _PARTITIONS]
    if not starts:
        return None
    return min(starts), max(starts) + (1 << _PARTITION_BITS) - 1


def sqlite_rows(docs: Sequence[IndexDoc]) -> list[tuple[int, Fields]]:
    """Each document's rowid and fields, in rowid order: FTS5 writes its pending terms out
    as a new segment whenever a rowid is lower than the one before, and a batch mixes the
    partitions (a rebuild took 2.5 times longer)."""
    rows = [
        (_partition_start(doc.locale, doc.status) + doc.article_id, f)
        for doc, f in zip(docs, analyse_batch(docs), strict=True)
    ]
    return sorted(rows, key=lambda row: row[0])


class SqliteFtsIndex(SearchIndex):
    """Three FTS5 tables with the same rowids: ``kb_words`` (title and body words, with
    positions), ``kb_grams`` (title and body grams) and ``kb_titles`` (title words and
    grams). The grams are most of the index, so they keep only which column a gram is in
    (``detail=column``: their rank counts columns, not occurrences, which is all a recall
    field needs). Grams and titles carry prefix indexes for the one- and two-character
    prefixes a typing customer sends (「計」, "de"); without those FTS5 merges the lists
    of every term that starts so.

    FTS5's ``bm25`` reads a term's whole posting list to weigh it, about 15 ms for a term
    in half of 100,000 articles, however few matches are ranked. So a stage with more than
    ``CANDIDATES`` matches is not ranked by it: the title pass ranks the titles (short
    lists in ``kb_titles``), then the other matches follow, newest first."""

    _TABLES = ("kb_words", "kb_grams", "kb_titles")

    async def _create(self, session: AsyncSession) -> None:
        old = await session.scalar(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kb_fts'")
        )
        if old:  # the layout of one table: rebuilt at startup
            await session.execute(text("DROP TABLE IF EXISTS kb_fts_vocab"))
            await session.execute(text("DROP TABLE kb_fts"))
        await session.execute(
            text(
                "CREATE VIRTUAL TABLE IF NOT EXISTS kb_words USING fts5(title_words, body_words, "
                "tokenize = 'unicode61 remove_diacritics 0')"
            )
        )
        await session.execute(
            text(
                "CREATE VIRTUAL TABLE IF NOT EXISTS kb_grams USING fts5(title_grams, body_grams, "
                "tokenize = 'unicode61 remove_diacritics 0', detail = column, prefix = '1 2')"
            )
        )
        await session.execute(
            text(
                "CREATE VIRTUAL TABLE IF NOT EXISTS kb_titles USING fts5(title_words, "
                "title_grams, tokenize = 'unicode61 remove_diacritics 0', prefix = '1 2')"
            )
        )
        await session.execute(
            text(
                "CREATE VIRTUAL TABLE IF NOT EXISTS kb_grams_vocab USING fts5vocab(kb_grams, 'row')"
            )
        )

    async def is_empty(self, session: AsyncSession) -> bool:
        await self.ensure(session)
        return await session.scalar(text("SELECT rowid FROM kb_words LIMIT 1")) is None

    async def rebuild(
        self, session: AsyncSession, batches: AsyncIterator[Sequence[IndexDoc]], workers: int
    ) -> int:
        # Merging segments while loading costs more than one merge at the end.
        await self.ensure(session)
        for table in self._TABLES:
            await session.execute(
                text(f"INSERT INTO {table}({table}, rank) VALUES ('automerge', 0)")
            )
        try:
            return await super().rebuild(session, batches, workers)
        finally:
            for table in self._TABLES:
                await session.execute(
                    text(f"INSERT INTO {table}({table}, rank) VALUES ('automerge', 4)")
                )

    async def _after_rebuild(self, session: AsyncSession) -> None:
        for table in self._TABLES:
            await session.execute(text(f"INSERT INTO {table}({table}) VALUES ('optimize')"))

    prepare = staticmethod(sqlite_rows)

    async def upsert(self, session: AsyncSession, docs: Sequence[IndexDoc]) -> None:
        if docs:
            await self.delete(session, [doc.article_id for doc in docs])
            await self._load(session, sqlite_rows(docs))

    async def _load(self, session: AsyncSession, rows: list[tuple[int, Fields]]) -> None:
        await self.ensure(session)
        for table, first, second in (  # the columns are named as the fields
            ("kb_words", "title_words", "body_words"),
            ("kb_grams", "title_grams", "body_grams"),
            ("kb_titles", "title_words", "title_grams"),
        ):
            await session.execute(
                text(f"INSERT INTO {table} (rowid, {first}, {second}) VALUES (:rowid, :a, :b)"),
                [
                    {"rowid": rowid, "a": getattr(f, first), "b": getattr(f, second)}
                    for rowid, f in rows
                ],
            )
        self.forget_vocabulary()

    async def delete(self, session: AsyncSession, article_ids: Sequence[int]) -> None:
        await self.ensure(session)
        starts = [i << _PARTITION_BITS for i in range(len(_PARTITIONS))]
        rowids = [{"rowid": start + id_} for id_ in article_ids for start in starts]
        for table in self._TABLES:
            await session.execute(text(f"DELETE FROM {table} WHERE rowid = :rowid"), rowids)
        self.forget_vocabulary()

    async def clear(self, session: AsyncSession) -> None:
        await self.ensure(session)
        for table in self._TABLES:
            await session.execute(text(f"DELETE FROM {table}"))

    async def _stage(
        self,
        session: AsyncSession,
        stage: int,
        titles_only: bool,
        query: Query,
        locale: str,
        statuses: Sequence[str],
        limit: int,
    ) -> tuple[list[Hit], bool]:
        rowids = _rowid_range(locale, statuses)
        if rowids is None:
            return [], False
        if stage == 2:
            terms = [_fts_phrase(g) for g in query.grams]
            terms += [_fts_phrase(p, prefix=True) for p in query.prefixes]
            match = " AND ".join(terms)
            table, weights, title_column = "kb_grams", "4.0, 1.0", "title_grams"
        else:
            glue = " AND " if stage == 1 else " OR "
            match = glue.join(_fts_phrase(w) for w in query.words)
            table, weights, title_column = "kb_words", "5.0, 1.0", "title_words"
        if titles_only:
            table, match = "kb_titles", f"{title_column} : ({match})"
            weights = "1.0, 0" if stage != 2 else "0, 1.0"
        params = {"match": match, "low": rowids[0], "high": rowids[1]}
        newest = await session.execute(
            text(
                f"SELECT rowid FROM {table} WHERE {table} MATCH :match "
                "AND rowid BETWEEN :low AND :high ORDER BY rowid DESC LIMIT :candidates"
            ),
            {**params, "candidates": CANDIDATES},
        )
        rowids_found = [int(row[0]) for row in newest]
        capped = len(rowids_found) >= CANDIDATES
        if capped and not titles_only:
            ranked = [(rowid, 0.0) for rowid in rowids_found[:limit]]  # newest first
        else:
            result = await session.execute(
                text(
                    f"SELECT rowid, bm25({table}, {weights}) AS rank FROM {table} "
                    f"WHERE {table} MATCH :match AND rowid BETWEEN :low AND :high "
                    "ORDER BY rank, rowid LIMIT :limit"
                ),
                {**params, "limit": limit},
            )
            ranked = [(int(row[0]), -float(row[1])) for row in result]
        article_id_mask = (1 << _PARTITION_BITS) - 1
        return [Hit(rowid & article_id_mask, stage, score) for rowid, score in ranked], capped

    async def _load_vocabulary(self, session: AsyncSession) -> list[str]:
        await self.ensure(session)
        rows = await session.execute(
            text("SELECT term FROM kb_grams_vocab WHERE term GLOB '[a-z][a-z][a-z]*'")
        )
        return [str(row[0]) for row in rows]

    async def size_bytes(self, session: AsyncSession) -> int:
        return -1  # dbstat is not in every build: the caller measures the file


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


def postgres_rows(docs: Sequence[IndexDoc]) -> list[dict[str, Any]]:
    """Each document's row of ``kb_search`` (vectors as literals) and its Latin grams for
    the vocabulary: built in the worker processes during a rebuild (a third of its time)."""
    rows = []
    for doc, f in zip(docs, analyse_batch(docs), strict=True):
        title_words, title_grams = f.title_words.split(), f.title_grams.split()
        body_grams = f.body_grams.split()
        rows.append(
            {
                "id": doc.article_id,
                "locale": doc.locale,
                "status": doc.status,
                "words": tsvector_literal([("A", title_words), ("B", f.body_words.split())]),
                "grams": tsvector_literal([("C", title_grams), ("D", body_grams)]),
                "title_doc": tsvector_literal([("A", title_words), ("C", title_grams)]),
                "latin": [g for g in {*title_grams, *body_grams} if _VOCABULARY_WORD.fullmatch(g)],
            }
        )
    return rows


class PostgresFtsIndex(SearchIndex):
    """Words and grams are separate vectors: a query restricted to weights (words only, say)
    cannot be answered by the GIN index alone, and rechecking it reads every candidate's
    TOASTed vector back (hundreds of milliseconds for a gram that is in no word field).
    ``title_doc`` is the title alone for the title pass, small enough to stay in the row,
    so its weight-restricted queries are cheap. Typo correction reads ``kb_vocabulary``
    (the Latin grams ever indexed) instead of ``ts_stat`` over every vector."""

    async def _create(self, session: AsyncSession) -> None:
        words = await session.scalar(
            text(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = 'kb_search' AND column_name = 'words'"
            )
        )
        if not words:  # the layout of one vector per document: rebuilt at startup
            await session.execute(text("DROP TABLE IF EXISTS kb_search"))
        # Ranking reads each candidate's vectors back from TOAST: lz4 unpacks them several
        # times faster than the default pglz (where the server was built with it).
        lz4 = await session.scalar(
            text(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                "WHERE name = 'default_toast_compression'"
            )
        )
        packed = "TSVECTOR COMPRESSION lz4" if lz4 else "TSVECTOR"
        await session.execute(
            text(
                "CREATE TABLE IF NOT EXISTS kb_search ("
                "article_id BIGINT PRIMARY KEY, locale VARCHAR(8) NOT NULL, "
                f"status VARCHAR(12) NOT NULL, words {packed} NOT NULL, "
                f"grams {packed} NOT NULL, title_doc TSVECTOR NOT NULL)"
            )
        )
        await self._create_indexes(session)
        await session.execute(
            text("CREATE TABLE IF NOT EXISTS kb_vocabulary (term VARCHAR(64) PRIMARY KEY)")
        )

    prepare = staticmethod(postgres_rows)

    async def upsert(self, session: AsyncSession, docs: Sequence[IndexDoc]) -> None:
        if docs:
            await self._load(session, postgres_rows(docs))

    async def _load(self, session: AsyncSession, rows: list[dict[str, Any]]) -> None:
        await self.ensure(session)
        await session.execute(
            text(
                "INSERT INTO kb_search (article_id, locale, status, words, grams, title_doc) "
                "VALUES (:id, :locale, :status, CAST(:words AS tsvector), "
                "CAST(:grams AS tsvector), CAST(:title_doc AS tsvector)) "
                "ON CONFLICT (article_id) DO UPDATE SET locale = EXCLUDED.locale, "
                "status = EXCLUDED.status, words = EXCLUDED.words, grams = EXCLUDED.grams, "
                "title_doc = EXCLUDED.title_doc"
            ),
            [{k: v for k, v in row.items() if k != "latin"} for row in rows],
        )
        latin = sorted({term for row in rows for term in row["latin"]})
        if latin:
            await session.execute(
                text(
                    "INSERT INTO kb_vocabulary (term) SELECT unnest(CAST(:terms AS text[])) "
                    "ON CONFLICT DO NOTHING"
                ),
                {"terms": latin},
            )
        self.forget_vocabulary()

    async def clear(self, session: AsyncSession) -> None:
        await self.ensure(session)
        await session.execute(text("DELETE FROM kb_search"))
        await session.execute(text("DELETE FROM kb_vocabulary"))

    async def delete(self, session: AsyncSession, article_ids: Sequence[int]) -> None:
        # The vocabulary keeps the deleted article's words: a correction to a word that is
        # gone finds nothing, which is what the uncorrected word would have found.
        await self.ensure(session)
        await session.execute(
            text("DELETE FROM kb_search WHERE article_id = ANY(:ids)"), {"ids": list(article_ids)}
        )

    async def is_empty(self, session: AsyncSession) -> bool:
        await self.ensure(session)
        return await session.scalar(text("SELECT article_id FROM kb_search LIMIT 1")) is None

    _INDEXES: ClassVar[dict[str, str]] = {
        "ix_kb_search_words": "USING GIN (words)",
        "ix_kb_search_grams": "USING GIN (grams)",
        "ix_kb_search_title_doc": "USING GIN (title_doc)",
        # Newest first within one language: the walk that stops at CANDIDATES.
        "ix_kb_search_locale": "(locale, article_id)",
    }

    async def rebuild(
        self, session: AsyncSession, batches: AsyncIterator[Sequence[IndexDoc]], workers: int
    ) -> int:
        # Building the indexes once after the load is several times cheaper than keeping
        # them up to date row by row; the transaction hides the gap from every reader.
        await self.ensure(session)
        for name in self._INDEXES:
            await session.execute(text(f"DROP INDEX IF EXISTS {name}"))
        return await super().rebuild(session, batches, workers)

    async def _after_rebuild(self, session: AsyncSession) -> None:
        await self._create_indexes(session)
        # Fresh statistics, or the planner guesses at the new rows until autovacuum runs.
        await session.execute(text("ANALYZE kb_search"))

    async def _create_indexes(self, session: AsyncSession) -> None:
        for name, definition in self._INDEXES.items():
            await session.execute(
                text(f"CREATE INDEX IF NOT EXISTS {name} ON kb_search {definition}")
            )

    async def _stage(
        self,
        session: AsyncSession,
        stage: int,
        titles_only: bool,
        query: Query,
        locale: str,
        statuses: Sequence[str],
        limit: int,
    ) -> tuple[list[Hit], bool]:
        # Weight labels only on the small title vector, where the recheck is cheap.
        if stage == 2:
            weights = ":C" if titles_only else ""
            terms = [f"{_lexeme(g)}{weights}" for g in query.grams]
            terms += [f"{_lexeme(p)}:*{weights[1:]}" for p in query.prefixes]
            tsquery = " & ".join(terms)
            column = "title_doc" if titles_only else "grams"
        else:
            weights = ":A" if titles_only else ""
            glue = " & " if stage == 1 else " | "
            tsquery = glue.join(f"{_lexeme(w)}{weights}" for w in query.words)
            column = "title_doc" if titles_only else "words"
        # The inner query stops at CANDIDATES matches; only those are ranked.
        result = await session.execute(
            text(
                f"SELECT article_id, ts_rank('{{0.1, 0.25, 0.4, 1.0}}', {column}, q, 1) AS rank, "
                "count(*) OVER () "
                f"FROM (SELECT article_id, {column} FROM kb_search "
                f"WHERE {column} @@ CAST(:q AS tsquery) AND locale = :locale "
                "AND status = ANY(:statuses) ORDER BY article_id DESC LIMIT :candidates) AS m, "
                "CAST(:q AS tsquery) AS q ORDER BY rank DESC, article_id LIMIT :limit"
            ),
            {
                "q": tsquery,
                "locale": locale,
                "statuses": list(statuses),
                "limit": limit,
                "candidates": CANDIDATES,
            },
        )
        rows = result.all()
        capped = bool(rows) and rows[0][2] >= CANDIDATES
        return [Hit(int(row[0]), stage, float(row[1])) for row in rows], capped

    async def _load_vocabulary(self, session: AsyncSession) -> list[str]:
        await self.ensure(session)
        return list(await session.scalars(text("SELECT term FROM kb_vocabulary")))

    async def size_bytes(self, session: AsyncSession) -> int:
        value = await session.scalar(
            text(
                "SELECT pg_total_relation_size('kb_search') + "
                "pg_total_relation_size('kb_vocabulary')"
            )
        )
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
