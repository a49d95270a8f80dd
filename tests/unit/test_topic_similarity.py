"""Similar-topic suggestions: a labelled set of Japanese and English paraphrases
(tests/data/product_paraphrases.json) must each find their topic among the first three
suggestions, out of every topic of the set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from supportdesk.product.similarity import Candidate, rank

DATA = json.loads(
    (Path(__file__).parents[1] / "data" / "product_paraphrases.json").read_text(encoding="utf-8")
)
TOPICS = {t["key"]: index for index, t in enumerate(DATA["topics"], start=1)}
CANDIDATES = [
    Candidate(TOPICS[t["key"]], f"{t['title']}\n{t['description']}") for t in DATA["topics"]
]


def test_the_set_is_large_and_in_both_languages():
    paraphrases = DATA["paraphrases"]
    assert len(paraphrases) >= 30
    japanese = [p for p in paraphrases if any(ord(ch) > 0x3000 for ch in p["text"])]
    assert len(japanese) >= 15 and len(paraphrases) - len(japanese) >= 15


@pytest.mark.parametrize(
    "paraphrase", DATA["paraphrases"], ids=lambda p: f"{p['topic']}:{p['text'][:20]}"
)
def test_a_paraphrase_finds_its_topic_in_the_top_three(paraphrase):
    found = [topic_id for topic_id, _ in rank(paraphrase["text"], CANDIDATES, limit=3)]
    assert TOPICS[paraphrase["topic"]] in found


def test_unrelated_text_suggests_little():
    assert rank("xyzzy", CANDIDATES, limit=3) == []
    assert rank("", CANDIDATES, limit=3) == []
