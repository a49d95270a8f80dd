"""Existing topics similar to what the agent is typing.

Both sides go through the knowledge base's analyser (``knowledge.analysis``): Japanese
is cut into normalised morphemes by SudachiPy and English words are stemmed, so
「エクスポートしたい」 and 「エクスポート」, or "exporting" and "export", meet. Two signals
are mixed:

- word overlap: the share of the query's words found in the topic, plus a small share
  of the topic's words found in the query (a short topic fully named scores high);
- rapidfuzz ``token_set_ratio`` and ``partial_ratio`` over the analysed words, which
  forgive typos and different word order; and ``partial_ratio`` over the raw Japanese
  character bigrams, which catches compounds the dictionary splits differently.

The topic's text is its title, description and the customers' quotes of its links.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from supportdesk.knowledge.analysis import analyse


@dataclass(frozen=True, slots=True)
class Profile:
    words: frozenset[str]
    joined: str  # the words, sorted and space-separated, for rapidfuzz
    grams: frozenset[str]  # Japanese character bigrams


# Topics' texts change rarely, and suggestions run on every keystroke: keep the analyses.
@lru_cache(maxsize=4096)
def profile(text: str) -> Profile:
    analysed = analyse(text)
    words = frozenset(token.term for token in analysed.words)
    grams = frozenset(
        token.term for token in analysed.grams if any(ord(ch) > 0x3000 for ch in token.term)
    )
    return Profile(words, " ".join(sorted(words)), grams)


def similarity(query: Profile, topic: Profile) -> float:
    """0..1: how well ``topic`` matches what the agent typed."""
    if not query.words and not query.grams:
        return 0.0
    overlap = 0.0
    if query.words and topic.words:
        shared = len(query.words & topic.words)
        overlap = 0.8 * shared / len(query.words) + 0.2 * shared / len(topic.words)
    fuzzy = 0.0
    if query.joined and topic.joined:
        fuzzy = (
            max(
                fuzz.token_set_ratio(query.joined, topic.joined),
                0.9 * fuzz.partial_ratio(query.joined, topic.joined),
            )
            / 100
        )
    grams = 0.0
    if query.grams and topic.grams:
        grams = len(query.grams & topic.grams) / len(query.grams)
    return 0.5 * overlap + 0.3 * fuzzy + 0.2 * grams


@dataclass(frozen=True, slots=True)
class Candidate:
    topic_id: int
    text: str


def rank(
    text: str, candidates: Sequence[Candidate], limit: int, minimum: float = 0.15
) -> list[tuple[int, float]]:
    """The ``limit`` best (topic_id, similarity) pairs above ``minimum``, best first."""
    query = profile(text)
    scored = [(c.topic_id, similarity(query, profile(c.text))) for c in candidates]
    scored = [pair for pair in scored if pair[1] >= minimum]
    scored.sort(key=lambda pair: (-pair[1], pair[0]))
    return scored[:limit]
