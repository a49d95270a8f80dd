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

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

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


@dataclass(frozen=True, slots=True)
class Token:
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


def _tokenizer() -> object:
    # Sudachi tokenizers are not thread-safe: one per thread.
    tok = getattr(_local, "tokenizer", None)
    if tok is None:
        tok = Dictionary(dict="core").tokenizer(SplitMode.C)
        _local.tokenizer = tok
    return tok


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


def _ja_words(text: str) -> list[Token]:
    """Sudachi over the whole text (one call, particles keep their context); only the
    morphemes in Japanese script are kept, Latin words are analysed separately."""
    tokens: list[Token] = []
    tokenizer = _tokenizer()
    for base, chunk in _chunks(text):
        for m in tokenizer.tokenize(chunk):  # type: ignore[attr-defined]
            if not _JA_CHAR.match(m.surface()) or m.part_of_speech()[0] in _DROPPED_POS:
                continue
            form = _indexed_form(m.normalized_form())
            if form is not None:
                tokens.append(Token(form, base + m.begin(), base + m.end()))
    return tokens


def _bigrams(run: str, base: int) -> list[Token]:
    if len(run) == 1:
        return [Token(run, base, base + 1)]
    return [Token(run[i : i + 2], base + i, base + i + 2) for i in range(len(run) - 1)]


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
        else:
            word = match.group("latin").lower().replace("’", "'")
            word = word.split("'")[0]
            if len(word) > MAX_WORD:
                continue  # a pasted hash or blob, not a word (PostgreSQL caps lexemes too)
            latin.append(word)
            grams.append(Token(word, start, match.end()))
            if with_words and word not in _EN_STOP:
                words.append(Token(stem(word), start, match.end()))
    if with_words and ja_runs:
        words.extend(_ja_words(text))
        words.sort(key=lambda token: token.start)
    return Analysed(text, words, grams, ja_runs, latin)


def joined(tokens: list[Token]) -> str:
    """Pre-analysed tokens as the space-separated text the engines index."""
    return " ".join(token.term for token in tokens)
