"""Throughput of ``redact()`` on the labelled corpus (tests/data/redaction_corpus.jsonl).

    .venv/bin/python benchmarks/redaction.py [--seconds 3]

Prints messages per second and microseconds per message for the corpus as a whole, for
its positives and negatives, and for ordinary chat lines with no trigger word (the
common case on the hot path, which takes the quick screen only).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from supportdesk.safety.redaction import redact

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "redaction_corpus.jsonl"
PLAIN = [
    "Hello, I can't open the report page since this morning.",
    "Thanks, that fixed it!",
    "こんにちは。レポート画面が開けません。",
    "ありがとうございます、解決しました。",
]


def rate(texts: list[str], seconds: float) -> tuple[float, float]:
    """(messages per second, microseconds per message) over about ``seconds``."""
    done = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for text in texts:
            redact(text)
        done += len(texts)
    return done / elapsed, elapsed / done * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    cases = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    groups = {
        "corpus (all)": [case["text"] for case in cases],
        "positives": [case["text"] for case in cases if case["secrets"]],
        "negatives": [case["text"] for case in cases if not case["secrets"]],
        "plain chat lines": PLAIN,
    }
    for name, texts in groups.items():
        per_second, micros = rate(texts, args.seconds)
        print(f"{name:18} {len(texts):4} texts  {per_second:>10,.0f} msgs/s  {micros:6.1f} µs/msg")


if __name__ == "__main__":
    main()
