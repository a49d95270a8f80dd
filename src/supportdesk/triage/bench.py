"""Triage latency benchmark (``supportdesk bench triage``).

Classifies the shipped requests (both parts, Japanese and English, 10 to 400 characters)
one after another in this process, as the triage endpoint does after its two catalogue
reads, with the demo catalogue and two installed apps. The model is trained before the
clock starts. Reports requests per second and the latency percentiles.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from supportdesk.triage.classifier import classify, default_model
from supportdesk.triage.data import load_rows
from supportdesk.triage.eval import demo_catalogue

INSTALLED = ("smart-forms", "signflow")


@dataclass(frozen=True)
class BenchResult:
    requests: int
    seconds: float
    train_seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    def report(self) -> str:
        return "\n".join(
            [
                f"triage: {self.requests} requests in {self.seconds:.2f} s "
                f"= {self.requests / self.seconds:,.0f} requests/s (one thread)",
                f"latency ms: p50 {self.p50_ms:.2f}  p95 {self.p95_ms:.2f}  "
                f"p99 {self.p99_ms:.2f}  max {self.max_ms:.2f}",
                f"model training at first use: {self.train_seconds:.2f} s",
            ]
        )


def bench_triage(requests: int = 2000) -> BenchResult:
    started = time.perf_counter()
    default_model()
    train_seconds = time.perf_counter() - started
    texts = [row["text"] for part in ("train", "test") for row in load_rows(part)]
    catalogue = demo_catalogue()
    for text in texts[:50]:  # warm the analyser's caches and Sudachi's tokenizer
        classify(text, None, INSTALLED, catalogue)
    latencies = []
    begin = time.perf_counter()
    for i in range(requests):
        text = texts[i % len(texts)]
        t0 = time.perf_counter()
        classify(text, None, INSTALLED, catalogue)
        latencies.append((time.perf_counter() - t0) * 1000)
    seconds = time.perf_counter() - begin
    cuts = statistics.quantiles(latencies, n=100)
    return BenchResult(
        requests=requests,
        seconds=seconds,
        train_seconds=train_seconds,
        p50_ms=cuts[49],
        p95_ms=cuts[94],
        p99_ms=cuts[98],
        max_ms=max(latencies),
    )
