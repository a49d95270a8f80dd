"""Text analysis shared by the index and the queries (one analyser, so they always agree).

Text is NFKC-normalised (full-width ASCII becomes ASCII), then split by script:

- Japanese runs (kanji, kana) go through SudachiPy in mode C and keep each morpheme's
  *normalised form*, so 「設定する」, 「設定し」 and 「設定」 all give ``設定``; particles,
  auxiliary verbs, symbols and light verbs (する, ある, なる) are dropped.
- Latin and digit runs are lower-cased and Snowball-stemmed ("workflows" -> "workflow").

Beside these *words* every text also gives *grams* for recall: character bigrams of each
Japanese run (a one-character run gives itself) and every Latin word unstemmed. A query of
one or two characters, or a word the dictionary has never seen, still matches through the
grams; the index ranks word matches above gram matches.

Every token is a run of word characters only, so it can be written into FTS5 (``unicode61``)
or a PostgreSQL ``tsvector``/``tsquery`` literal without quoting problems.
"""

from __future__ import annotations

import itertools
import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import snowballstemmer
from sudachipy import Dictionary, SplitMode

# Kanji, hiragana, katakana (with the prolonged sound mark) and the iteration mark.
_JA = (
    r"\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff"
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005"
)
_RUN = re.compile(rf"(?P<ja>[{_JA}]+)|(?P<latin>[0-9A-Za-z]+(?:['’][A-Za-z]+)?)")
_DROPPED_POS = frozenset({"助詞", "助動詞", "補助記号", "空白", "記号"})
# Light verbs and function words that Sudachi tags as content words, including the verbs
# inside compound particles: について (つく), に関して, に対して, によって.
_JA_STOP = frozenset(
    {"為る", "有る", "居る", "成る", "事", "物", "様", "出来る", "れる", "られる"}
    | {"つく", "付く", "関する", "対する", "因る", "よる"}
)
_EN_STOP_WORDS = (
    "a an and are as at be by can do does for from how i in is it my of on or the to "
    "what when where which why with you your me we our this that"
)
_EN_STOP = frozenset(_EN_STOP_WORDS.split(" "))

MAX_WORD = 64

_local = threading.local()
_stemmer_lock = threading.Lock()


class Token(NamedTuple):
    # A tuple, not a dataclass: a long Japanese body makes thousands of these, and tuples
    # are several times cheaper to create (indexing speed is bound by the analysis).
    term: str
    start: int  # offsets in the NFKC-normalised text
    end: int


@dataclass(frozen=True, slots=True)
class Analysed:
    text: str  # the NFKC-normalised text the offsets refer to
    words: list[Token]
    grams: list[Token]
    # Raw Japanese runs and lower-cased Latin words, for query-time prefix matching.
    ja_runs: list[str]
    latin_words: list[str]


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _tokenizer() -> tuple[object, frozenset[int]]:
    """This thread's tokenizer and the ids of the parts of speech it drops.

    Sudachi tokenizers are not thread-safe: one per thread. Comparing part-of-speech ids
    saves building a tuple of six strings for every morpheme."""
    cached = getattr(_local, "tokenizer", None)
    if cached is None:
        dictionary = Dictionary(dict="core")
        dropped = set()
        pos_id = 0
        while (pos := dictionary.pos_of(pos_id)) is not None:  # ids are dense from 0
            if pos[0] in _DROPPED_POS:
                dropped.add(pos_id)
            pos_id += 1
        cached = (dictionary.tokenizer(SplitMode.C), frozenset(dropped))
        _local.tokenizer = cached
    return cached


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    with _stemmer_lock:
        return str(_STEMMER.stemWord(word))


_STEMMER = snowballstemmer.stemmer("english")


_JA_CHAR = re.compile(rf"[{_JA}]")
# Sudachi refuses very long inputs; bodies are cut at a line or sentence end below this.
_CHUNK = 8000


def _chunks(text: str) -> list[tuple[int, str]]:
    chunks: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > _CHUNK:
        window = text[start : start + _CHUNK]
        cut = max(window.rfind("\n"), window.rfind("。"), window.rfind(" "))
        end = start + (cut + 1 if cut > 0 else _CHUNK)
        chunks.append((start, text[start:end]))
        start = end
    chunks.append((start, text[start:]))
    return chunks


@lru_cache(maxsize=100_000)
def _indexed_form(normalized_form: str) -> str | None:
    form = normalise(normalized_form).lower()
    if form in _JA_STOP or not re.fullmatch(r"\w+", form):
        return None
    # A lone hiragana is a particle Sudachi did not recognise as one (で, に).
    if len(form) == 1 and "\u3041" <= form <= "\u309f":
        return None
    return form


def _ja_morphemes(text: str) -> Iterator[tuple[str, int, int]]:
    """Sudachi over the whole text (one call, particles keep their context): the indexed
    form and offsets of each content morpheme in Japanese script (Latin words are analysed
    separately)."""
    tokenizer, dropped = _tokenizer()
    is_japanese = _JA_CHAR.match
    for base, chunk in _chunks(text):
        for m in tokenizer.tokenize(chunk):  # type: ignore[attr-defined]
            if m.part_of_speech_id() in dropped or not is_japanese(m.surface()):
                continue
            form = _indexed_form(m.normalized_form())
            if form is not None:
                yield form, base + m.begin(), base + m.end()


def _bigrams(run: str, base: int) -> list[Token]:
    if len(run) == 1:
        return [Token(run, base, base + 1)]
    return [
        Token(a + b, base + i, base + i + 2) for i, (a, b) in enumerate(itertools.pairwise(run))
    ]


def _latin_word(raw: str) -> str | None:
    """The lower-cased word without its 's or 't, or None for a pasted hash or blob (not a
    word; PostgreSQL caps lexemes too)."""
    word = raw.lower().replace("’", "'").split("'")[0]
    return word if len(word) <= MAX_WORD else None


def analyse(text: str, *, with_words: bool = True) -> Analysed:
    text = normalise(text)
    words: list[Token] = []
    grams: list[Token] = []
    ja_runs: list[str] = []
    latin: list[str] = []
    for match in _RUN.finditer(text):
        start = match.start()
        if match.group("ja"):
            run = match.group("ja")
            ja_runs.append(run)
            grams.extend(_bigrams(run, start))
        elif (word := _latin_word(match.group("latin"))) is not None:
            latin.append(word)
            grams.append(Token(word, start, match.end()))
            if with_words and word not in _EN_STOP:
                words.append(Token(stem(word), start, match.end()))
    if with_words and ja_runs:
        words.extend(Token(*morpheme) for morpheme in _ja_morphemes(text))
        words.sort(key=lambda token: token.start)
    return Analysed(text, words, grams, ja_runs, latin)


def index_terms(text: str) -> tuple[str, str]:
    """The words and the grams of ``text`` as the engines index them (space-separated).

    The same analysis as ``analyse`` without the offsets, which only snippets need: the
    reindex of a large knowledge base is bound by this function, and building a token
    object for every bigram of every body made it several times slower."""
    text = normalise(text)
    words: list[str] = []
    grams: list[str] = []
    has_japanese = False
    for match in _RUN.finditer(text):
        run = match.group("ja")
        if run:
            has_japanese = True
            grams.append(
                run if len(run) == 1 else " ".join(a + b for a, b in itertools.pairwise(run))
            )
        elif (word := _latin_word(match.group("latin"))) is not None:
            grams.append(word)
            if word not in _EN_STOP:
                words.append(stem(word))
    if has_japanese:
        words.extend(form for form, _, _ in _ja_morphemes(text))
    return " ".join(words), " ".join(grams)
