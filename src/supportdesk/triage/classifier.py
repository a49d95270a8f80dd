"""The triage classifier: keyword cues plus a small naive Bayes model, both explainable.

How a text is classified (pure: the catalogue and the installed apps are passed in):

1. The text goes through the knowledge base's analyser (``knowledge.analysis.analyse``):
   Sudachi-normalised Japanese words, Snowball-stemmed English words, and the character
   bigrams of the Japanese runs (they catch words the dictionary splits oddly). These are
   the model's features, counted once per text.
2. A multinomial naive Bayes model, trained on ``data/train.jsonl`` at first use, gives the
   log-probability of each category. Naive Bayes is used because every feature's weight
   for every class is a readable number, so the words that decided can be shown.
3. Keyword cues (``rules.CUES``, Japanese and English patterns) add fixed log-odds to their
   category; a marketplace app named in the text adds more to ``marketplace_app``.
4. The category with the highest sum wins; the confidence is its softmax share. Out-of-scope
   work gets a subtype the same way (a second model trained on the out-of-scope rows, plus
   the subtype cues). A technical problem is ``specific`` when the detectors in
   ``rules.DETAILS`` find at least two of the six details, else ``vague``.

Every cue, detector and the model's strongest words become ``reasons`` in both languages.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from supportdesk.knowledge.analysis import analyse
from supportdesk.triage import rules
from supportdesk.triage.rules import AppEntry, AppMatch, Reason

# Log-odds added by a named marketplace app (a cue adds its own weight, ``rules.CUES``).
APP_WEIGHT = 6.0
# The model's log-probabilities are scaled down before the cues are added: naive Bayes
# counts correlated words as independent evidence and is far too sure of itself.
MODEL_SCALE = 0.2
ALPHA = 0.3  # additive smoothing of the word counts
TOP_WORDS = 4


_QUESTION = re.compile(r"[?？]|(?:か|かな|の)[。.]?\s*$|でしょうか|ますか")
_NEGATION = re.compile(r"ません|ない|なかった|n't\b|\bnot\b|\bnever\b|\bcannot\b|\bcant\b")


def features_of(text: str) -> frozenset[str]:
    """Words (``w:``), Japanese character bigrams (``g:``) and two shape features (``s:``:
    a question, a negation). English words as written and word pairs were tried and
    lowered the cross-validated macro-F1 on the training part."""
    analysed = analyse(text)
    features = {f"w:{token.term}" for token in analysed.words}
    features.update(f"g:{token.term}" for token in analysed.grams if not token.term.isascii())
    if _QUESTION.search(analysed.text):
        features.add("s:question")
    if _NEGATION.search(analysed.text.lower()):
        features.add("s:negation")
    return frozenset(features)


def _display(feature: str) -> str:
    return feature[2:]


@dataclass(frozen=True)
class NaiveBayes:
    classes: tuple[str, ...]
    log_prior: dict[str, float]
    log_likelihood: dict[str, dict[str, float]]
    log_unseen: dict[str, float]
    vocabulary: frozenset[str]

    @classmethod
    def train(cls, docs: Iterable[tuple[frozenset[str], str]], alpha: float = ALPHA) -> NaiveBayes:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        doc_counts: Counter[str] = Counter()
        for features, label in docs:
            counts[label].update(features)
            doc_counts[label] += 1
        classes = tuple(sorted(doc_counts))
        vocabulary = frozenset(f for c in classes for f in counts[c])
        total_docs = sum(doc_counts.values())
        log_prior = {c: math.log(doc_counts[c] / total_docs) for c in classes}
        log_likelihood: dict[str, dict[str, float]] = {}
        log_unseen: dict[str, float] = {}
        for c in classes:
            denominator = sum(counts[c].values()) + alpha * len(vocabulary)
            log_likelihood[c] = {
                f: math.log((n + alpha) / denominator) for f, n in counts[c].items()
            }
            log_unseen[c] = math.log(alpha / denominator)
        return cls(classes, log_prior, log_likelihood, log_unseen, vocabulary)

    def weight(self, label: str, feature: str) -> float:
        return self.log_likelihood[label].get(feature, self.log_unseen[label])

    def log_posteriors(self, features: frozenset[str]) -> dict[str, float]:
        known = [f for f in features if f in self.vocabulary]
        raw = {c: self.log_prior[c] + sum(self.weight(c, f) for f in known) for c in self.classes}
        return _log_normalise(raw)

    def strongest(self, features: frozenset[str], label: str, limit: int) -> list[str]:
        """The features that speak most for ``label`` against the other classes."""
        others = [c for c in self.classes if c != label]
        if not others:
            return []
        scored = []
        for f in features:
            # Only whole words explain well; the bigrams are there for recall.
            if f not in self.vocabulary or not f.startswith("w:"):
                continue
            margin = self.weight(label, f) - max(self.weight(c, f) for c in others)
            if margin > 0.5:
                scored.append((margin, f))
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        shown: list[str] = []
        for _, f in scored:
            word = _display(f)
            # A bigram inside a word already shown adds nothing to the explanation.
            if not any(word in other for other in shown):
                shown.append(word)
            if len(shown) == limit:
                break
        return shown


def _log_normalise(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    log_sum = top + math.log(sum(math.exp(v - top) for v in scores.values()))
    return {c: v - log_sum for c, v in scores.items()}


@dataclass(frozen=True)
class Model:
    category: NaiveBayes
    subtype: NaiveBayes

    @classmethod
    def train(cls, rows: Sequence[dict[str, Any]]) -> Model:
        featured = [(features_of(row["text"]), row) for row in rows]
        return cls(
            category=NaiveBayes.train((f, row["category"]) for f, row in featured),
            subtype=NaiveBayes.train(
                (f, row["subtype"]) for f, row in featured if row["category"] == "out_of_scope"
            ),
        )


_model: Model | None = None
_model_lock = threading.Lock()


def default_model() -> Model:
    """The model trained on the shipped training part, built once on first use."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                from supportdesk.triage.data import load_rows

                _model = Model.train(load_rows("train"))
    return _model


@dataclass(frozen=True)
class TriageResult:
    category: str
    subtype: str | None
    quality: str | None
    missing: list[str]
    confidence: float
    reasons: list[Reason]
    app: dict[str, Any] | None
    specialization: str | None
    scores: dict[str, float] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "subtype": self.subtype,
            "quality": self.quality,
            "missing": list(self.missing),
            "confidence": self.confidence,
            "reasons": [reason.as_dict() for reason in self.reasons],
            "app": self.app,
            "specialization": self.specialization,
        }


def app_public(match: AppMatch) -> dict[str, Any]:
    app = match.app
    return {
        "code": app.code,
        "name": app.name_en,
        "name_ja": app.name_ja,
        "vendor": app.vendor,
        "support_url": app.support_url,
        "support_email": app.support_email,
        "support_tab_url": app.support_tab_url,
        "installed": match.installed,
    }


def _softmax_share(scores: dict[str, float], label: str) -> float:
    return math.exp(_log_normalise(scores)[label])


def classify(
    text: str,
    locale: str | None = None,
    installed_apps: Sequence[str] = (),
    catalogue: Sequence[AppEntry] = (),
    model: Model | None = None,
) -> TriageResult:
    """Triage one request. ``locale`` does not change the decision (both languages' cues
    and words are always looked at); it is accepted so callers need not detect it."""
    del locale
    model = model or default_model()
    normalised = rules.normalise(text)
    features = features_of(text)
    hits = rules.cue_hits(normalised)
    match = rules.match_app(text, installed_apps, catalogue)

    scores = {
        c: MODEL_SCALE * value for c, value in model.category.log_posteriors(features).items()
    }
    for c in rules.CATEGORIES:
        scores.setdefault(c, -50.0)
    for hit in hits:
        scores[hit.cue.category] += hit.cue.weight
    if match is not None:
        scores["marketplace_app"] += APP_WEIGHT
    category = max(rules.CATEGORIES, key=lambda c: scores[c])
    runner_up = max((c for c in rules.CATEGORIES if c != category), key=lambda c: scores[c])

    en_name, ja_name = rules.CATEGORY_NAMES[category]
    reasons = [Reason(f"Looks like {en_name}.", f"{ja_name}と判断しました。")]
    reasons += [
        hit.reason() for hit in hits if hit.cue.category == category and not hit.cue.subtype
    ]

    subtype = None
    if category == "out_of_scope":
        subtype = _subtype(model, features, hits)
        sub_en, sub_ja = rules.SUBTYPE_NAMES[subtype]
        reasons.append(Reason(f"Kind of work: {sub_en}.", f"依頼の種類: {sub_ja}。"))
        reasons += [hit.reason() for hit in hits if hit.cue.subtype == subtype]

    words = (
        model.category.strongest(features, category, TOP_WORDS)
        if category in model.category.classes
        else []
    )
    if words:
        reasons.append(
            Reason(
                f"Words the trained model links with {en_name}: {', '.join(words)} "
                f"(more likely than {rules.CATEGORY_NAMES[runner_up][0]}).",
                f"学習済みモデルが「{ja_name}」と結びつけた語: {'、'.join(words)}"
                f"（「{rules.CATEGORY_NAMES[runner_up][1]}」より有力）。",
            )
        )

    app = None
    if match is not None and category == "marketplace_app":
        app = app_public(match)
        where_en = "installed in this portal" if match.installed else "in the marketplace"
        where_ja = (
            "このポータルにインストール済み" if match.installed else "マーケットプレイスのアプリ"
        )
        reasons.append(
            Reason(
                f'Names the app "{match.app.name_en}" ({where_en}, matched "{match.name}"); '
                f"it is made and supported by {match.app.vendor}.",
                f"アプリ「{match.app.name_ja}」（{where_ja}、「{match.name}」に一致）の名前があります。"
                f"開発・サポートは{match.app.vendor}です。",
            )
        )

    quality = None
    missing: list[str] = []
    if category == "technical_problem":
        found = rules.specificity(normalised)
        quality = "specific" if found.specific else "vague"
        missing = found.missing
        reasons += found.reasons()

    return TriageResult(
        category=category,
        subtype=subtype,
        quality=quality,
        missing=missing,
        confidence=round(_softmax_share(scores, category), 3),
        reasons=reasons,
        app=app,
        specialization=rules.SPECIALIZATION.get(subtype) if subtype else None,
        scores=scores,
    )


def _subtype(model: Model, features: frozenset[str], hits: list[rules.CueHit]) -> str:
    scores = {s: -50.0 for s in rules.SUBTYPES}
    if model.subtype.classes:
        for s, value in model.subtype.log_posteriors(features).items():
            scores[s] = MODEL_SCALE * value
    for hit in hits:
        if hit.cue.subtype is not None:
            scores[hit.cue.subtype] += hit.cue.weight
    return max(rules.SUBTYPES, key=lambda s: scores[s])
