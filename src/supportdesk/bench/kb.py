"""Knowledge-base search benchmark: indexing throughput, query latency and index size.

Synthetic articles (half Japanese, half English) are generated from a fixed seed with
realistic lengths (Japanese bodies of about 600-1,500 characters, English bodies of about
120-300 words), analysed and written to the search index of the database in batches, the
way ``supportdesk kb reindex`` does. Then 1,000 mixed queries of 1 to 10 characters
(Japanese words of one to four characters, English words and prefixes, two-word queries
and typos) run one after another, each as the search endpoint runs it (typo correction and
the staged search in one language, top 10), and their latencies are reported.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.engine import make_url

from supportdesk.core.db import Database
from supportdesk.knowledge.search import IndexDoc, index_for

_JA_TEXT = (
    "設定 権限 表 ワークフロー 承認 申請 通知 メール 管理者 ユーザー グループ ロール 請求 "
    "プラン 契約 エクスポート インポート 読み込み 書き出し フィールド フォーム 一覧 検索 "
    "集計 グラフ レポート 添付 ファイル 画像 容量 上限 期限 代理 休暇 出張 経費 精算 "
    "稟議 購買 発注 在庫 顧客 案件 日報 勤怠 予約 会議室 備品 問い合わせ 障害 復旧 "
    "保守 更新 バージョン 履歴 監査 ログ 暗号化 認証 連携 同期 自動化 条件 分岐 計算 "
    "数式 関数 入力 必須 初期値 並び替え 絞り込み 共有 公開 非公開 削除 復元 招待 無効"
)
JA_WORDS = _JA_TEXT.split(" ")
JA_VERBS = (
    "を設定します。",
    "を変更できます。",
    "が表示されます。",
    "を確認してください。",
    "は管理者だけが操作できます。",
    "から選びます。",
    "に追加されます。",
    "を保存します。",
)
_EN_TEXT = (
    "settings permission table workflow approval request notification email admin user "
    "group role invoice plan contract export import field form list search report chart "
    "attachment file image storage limit deadline delegate vacation expense purchase order "
    "inventory customer project schedule booking room incident recovery update version "
    "history audit log encryption authentication integration sync automation condition "
    "branch formula function required default sort filter share public private delete "
    "restore invite disable"
)
EN_CONTENT = _EN_TEXT.split(" ")
EN_WORDS = [
    *EN_CONTENT,
    *[
        "the",
        "a",
        "to",
        "of",
        "and",
        "in",
        "for",
        "you",
        "can",
        "your",
        "is",
        "with",
        "on",
        "from",
        "this",
        "that",
    ],
]


@dataclass(frozen=True)
class KbBenchResult:
    database: str
    articles: int
    index_seconds: float
    articles_per_second: float
    index_bytes: int
    queries: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    def report(self) -> str:
        size = f"{self.index_bytes / 1e6:.1f} MB" if self.index_bytes >= 0 else "n/a"
        return (
            f"kb search on {self.database}: {self.articles} articles indexed in "
            f"{self.index_seconds:.1f} s ({self.articles_per_second:.0f} articles/s), "
            f"index {size}\n"
            f"  {self.queries} queries (1-10 characters): p50 {self.p50_ms:.1f} ms, "
            f"p95 {self.p95_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, max {self.max_ms:.1f} ms"
        )


def _ja_article(rng: random.Random) -> tuple[str, str]:
    title = "".join(rng.sample(JA_WORDS, 2)) + rng.choice(("の設定", "について", "の使い方"))
    sentences: list[str] = []
    length, written = rng.randint(600, 1500), 0
    while written < length:
        words = rng.sample(JA_WORDS, rng.randint(2, 4))
        sentences.append("の".join(words) + rng.choice(JA_VERBS))
        written += len(sentences[-1])
    return title, "".join(sentences)


def _en_article(rng: random.Random) -> tuple[str, str]:
    title = " ".join(rng.sample(EN_CONTENT, 3)).capitalize()
    words = [rng.choice(EN_WORDS) for _ in range(rng.randint(120, 300))]
    return title, " ".join(words).capitalize() + "."


def synthetic_articles(count: int, seed: int = 7) -> list[IndexDoc]:
    rng = random.Random(seed)
    docs = []
    for n in range(1, count + 1):
        locale = "ja" if n % 2 else "en"
        title, body = _ja_article(rng) if locale == "ja" else _en_article(rng)
        docs.append(IndexDoc(n, locale, "published", title, body))
    return docs


def mixed_queries(count: int, seed: int = 11) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    queries: list[tuple[str, str]] = []
    while len(queries) < count:
        kind = rng.random()
        if kind < 0.45:
            word = rng.choice(JA_WORDS)
            q = word[: rng.randint(1, len(word))] if rng.random() < 0.3 else word
            if rng.random() < 0.3:
                q = q + rng.choice(JA_WORDS)
            queries.append((q[:10], "ja"))
        else:
            word = rng.choice(EN_CONTENT)
            roll = rng.random()
            if roll < 0.2:
                q = word[: rng.randint(2, len(word))]  # still typing
            elif roll < 0.35 and len(word) > 4:
                i = rng.randrange(1, len(word) - 1)
                q = word[:i] + word[i + 1 :]  # a typo
            elif roll < 0.5:
                q = f"{word} {rng.choice(EN_CONTENT)}"
            else:
                q = word
            queries.append((q[:10], "en"))
    return queries


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _batches(docs: list[IndexDoc], size: int) -> AsyncIterator[list[IndexDoc]]:
    for i in range(0, len(docs), size):
        yield docs[i : i + size]


async def bench_kb(
    articles: int,
    queries: int,
    database_url: str | None,
    batch: int = 500,
    workers: int = os.cpu_count() or 1,
) -> KbBenchResult:
    if database_url is None:
        workdir = tempfile.mkdtemp(prefix="kb-bench-")
        database_url = f"sqlite+aiosqlite:///{workdir}/bench.db"
    db = Database(database_url)
    index = index_for(db)
    docs = synthetic_articles(articles)
    try:
        started = time.perf_counter()
        async with db.write() as session:
            await index.rebuild(session, _batches(docs, batch), workers)
        index_seconds = time.perf_counter() - started
        async with db.read() as session:
            size = await index.size_bytes(session)
        if size < 0 and db.is_sqlite:  # the whole database file: the index is most of it
            path = make_url(database_url).database or ""
            size = await asyncio.to_thread(os.path.getsize, path)
        latencies: list[float] = []
        async with db.read() as session:
            await index.corrected(session, "warmup")  # loads the typo vocabulary once
            for q, locale in mixed_queries(queries):
                t0 = time.perf_counter()
                fixed = await index.corrected(session, q)
                await index.search(session, fixed, locale=locale, statuses=("published",), limit=10)
                latencies.append((time.perf_counter() - t0) * 1000)
    finally:
        await db.dispose()
    return KbBenchResult(
        database=db.dialect,
        articles=articles,
        index_seconds=index_seconds,
        articles_per_second=articles / index_seconds,
        index_bytes=size,
        queries=len(latencies),
        p50_ms=statistics.median(latencies),
        p95_ms=_percentile(latencies, 0.95),
        p99_ms=_percentile(latencies, 0.99),
        max_ms=max(latencies),
    )
