"""Evaluation of the classifier on the held-out part (``supportdesk triage eval``).

Per-class precision, recall and F1, the confusion matrix, subtype accuracy on the
out-of-scope rows, vague/specific accuracy on the technical problems, and how well the
missing items are found. The model is trained on ``train.jsonl`` only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from supportdesk.triage import rules
from supportdesk.triage.classifier import Model, TriageResult, classify, default_model
from supportdesk.triage.data import DEMO_APPS, load_rows
from supportdesk.triage.rules import AppEntry


def demo_catalogue() -> list[AppEntry]:
    return [
        AppEntry(
            code=app["code"],
            name_en=app["name_en"],
            name_ja=app["name_ja"],
            aliases=tuple(app["aliases"]),
            vendor=app["vendor"],
            support_url=app["support_url"],
            support_email=app["support_email"],
            support_tab_url=app["support_tab_url"],
        )
        for app in DEMO_APPS
    ]


@dataclass(frozen=True)
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    rows: int
    per_class: list[ClassScore]
    macro_f1: float
    accuracy: float
    confusion: dict[str, Counter[str]]  # actual -> predicted -> count
    subtype_accuracy: float | None
    quality_accuracy: float | None
    quality_rows: int
    missing_accuracy: float | None  # per (row, item) on the technical problems

    def report(self) -> str:
        labels = list(rules.CATEGORIES)
        short = {label: label[:10] for label in labels}
        lines = [f"triage eval on {self.rows} held-out requests", ""]
        lines.append(f"{'class':<18} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}")
        for s in self.per_class:
            lines.append(
                f"{s.label:<18} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f} {s.support:>4}"
            )
        lines += [
            f"{'macro':<18} {'':>9} {'':>7} {self.macro_f1:>6.3f}",
            f"accuracy {self.accuracy:.3f}",
            "",
            "confusion matrix (rows: actual, columns: predicted)",
            f"{'':<18}" + "".join(f"{short[p]:>11}" for p in labels),
        ]
        for actual in labels:
            row = self.confusion.get(actual, Counter())
            lines.append(f"{actual:<18}" + "".join(f"{row[p]:>11}" for p in labels))
        lines.append("")
        if self.subtype_accuracy is not None:
            lines.append(f"out-of-scope subtype accuracy {self.subtype_accuracy:.3f}")
        if self.quality_accuracy is not None:
            lines.append(
                f"vague/specific accuracy {self.quality_accuracy:.3f} "
                f"({self.quality_rows} technical problems, classified as such)"
            )
        if self.missing_accuracy is not None:
            lines.append(f"missing-item accuracy {self.missing_accuracy:.3f} (per item and row)")
        return "\n".join(lines)


def evaluate(
    rows: Sequence[dict[str, Any]], model: Model | None = None, catalogue: Sequence[AppEntry] = ()
) -> Evaluation:
    model = model or default_model()
    catalogue = catalogue or demo_catalogue()
    results: list[tuple[dict[str, Any], TriageResult]] = [
        (row, classify(row["text"], row["locale"], (), catalogue, model)) for row in rows
    ]
    confusion: dict[str, Counter[str]] = {label: Counter() for label in rules.CATEGORIES}
    for row, result in results:
        confusion[row["category"]][result.category] += 1
    per_class = []
    for label in rules.CATEGORIES:
        tp = confusion[label][label]
        predicted = sum(confusion[a][label] for a in rules.CATEGORIES)
        actual = sum(confusion[label].values())
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class.append(ClassScore(label, precision, recall, f1, actual))
    correct = sum(confusion[label][label] for label in rules.CATEGORIES)

    subtype_pairs = [
        (row["subtype"], result.subtype)
        for row, result in results
        if row["category"] == "out_of_scope" and result.category == "out_of_scope"
    ]
    # Quality is judged on the technical problems the classifier also called technical
    # (for the others it gives no quality at all).
    quality_pairs = [
        (row, result)
        for row, result in results
        if row["category"] == "technical_problem" and result.category == "technical_problem"
    ]
    items = [
        (item in row["missing"]) == (item in result.missing)
        for row, result in quality_pairs
        for item in rules.MISSING_ITEMS
    ]
    return Evaluation(
        rows=len(rows),
        per_class=per_class,
        macro_f1=sum(s.f1 for s in per_class) / len(per_class),
        accuracy=correct / len(rows) if rows else 0.0,
        confusion=confusion,
        subtype_accuracy=_share(a == b for a, b in subtype_pairs) if subtype_pairs else None,
        quality_accuracy=(
            _share(row["quality"] == result.quality for row, result in quality_pairs)
            if quality_pairs
            else None
        ),
        quality_rows=len(quality_pairs),
        missing_accuracy=_share(items) if items else None,
    )


def _share(flags: Any) -> float:
    values = list(flags)
    return sum(1 for v in values if v) / len(values)


def evaluate_held_out() -> Evaluation:
    return evaluate(load_rows("test"))
