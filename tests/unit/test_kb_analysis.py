"""The knowledge-base analyser, query building, snippets and Markdown rendering."""

from __future__ import annotations

import pytest

from supportdesk.knowledge.analysis import analyse, index_terms
from supportdesk.knowledge.render import plain_text, render_markdown
from supportdesk.knowledge.search import (
    IndexDoc,
    analyse_batch,
    build_query,
    prepared_batches,
    snippet,
    tsvector_literal,
)

pytestmark = pytest.mark.unit


def _words(text: str) -> list[str]:
    return [token.term for token in analyse(text).words]


def test_japanese_words_use_normalised_forms_and_drop_function_words():
    assert _words("設定する") == ["設定"]
    assert _words("設定しました") == ["設定"]
    assert _words("ワークフローの権限を設定") == ["ワークフロー", "権限", "設定"]
    # Compound particles are function words too: について is not the verb つく.
    assert _words("エクスポートについて") == ["エクスポート"]
    assert _words("権限に関して") == ["権限"]
    # Full-width letters become ASCII, then English rules apply.
    assert _words("ＣＳＶ") == ["csv"]


def test_english_is_lower_cased_and_stemmed_and_mixed_text_splits_by_script():
    assert _words("Workflows") == _words("workflow") == ["workflow"]
    assert _words("Permissions") == _words("permission")
    assert _words("CSVでエクスポートする") == ["csv", "エクスポート"]


def test_grams_give_short_and_unknown_words_a_way_in():
    assert [t.term for t in analyse("権限設定").grams] == ["権限", "限設", "設定"]
    assert build_query("表").prefixes == ["表"]
    query = build_query("承認 exp")
    assert query.grams == ["承認"] and query.prefixes == ["exp"]


def test_tokens_are_safe_for_both_engines():
    for token in analyse("'a' & b | !c: \"d\" *e (f) 設定's").grams:
        assert token.term.replace("_", "").isalnum()
    assert [t.term for t in analyse("x" * 65 + " ok").grams] == ["ok"]
    literal = tsvector_literal([("A", ["設定"]), ("B", ["設定", "権限"])])
    assert literal == "'設定':1A,2B '権限':3B"


def test_snippets_mark_matches_and_escape_the_rest():
    html = snippet("<b>設定</b>を変更し、設定しました", "設定する")
    assert html == "&lt;b&gt;<mark>設定</mark>&lt;/b&gt;を変更し、<mark>設定</mark>しました"
    assert snippet("nothing here", "zzz") == "nothing here"


def test_markdown_renders_and_the_dangerous_parts_are_inert():
    html = render_markdown(
        "# T\n\n<script>x()</script>\n\n[a](javascript:x()) [b](https://ok.example)"
    )
    assert "<h1>T</h1>" in html
    assert "<script" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert '<a href="https://ok.example" rel="noopener noreferrer nofollow">b</a>' in html
    assert plain_text("**太字** と `code`") == "太字 と code"


def test_index_terms_are_the_analysers_words_and_grams():
    text = "ワークフローの設定を変更しました。Workflows can't be exported to PDF yet."
    analysed = analyse(text)
    words, grams = index_terms(text)
    assert sorted(words.split()) == sorted(t.term for t in analysed.words)
    assert grams.split() == [t.term for t in analysed.grams]


async def test_worker_processes_analyse_like_this_process():
    docs = [
        IndexDoc(n, locale, "published", title, body)
        for n, (locale, title, body) in enumerate(
            [
                ("ja", "権限の設定", "管理者だけが権限を変更できます。"),
                ("en", "Exporting tables", "Tables can be exported as CSV files."),
                ("ja", "表", "表を作成します。"),
            ],
            start=1,
        )
    ]

    async def batches():
        yield docs[:2]
        yield docs[2:]

    prepared = [batch async for batch in prepared_batches(batches(), analyse_batch, workers=2)]
    assert prepared == [analyse_batch(docs[:2]), analyse_batch(docs[2:])]
    assert [fields for batch in prepared for fields in batch] == analyse_batch(docs)
