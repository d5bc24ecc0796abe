"""`python -m tests.bench.analysis`: what understanding a typed reply costs.

Prints the dictionary load time and the RSS it adds, then p50/p99 of `analyze()` over the test
corpus of replies, uncached (each call tokenizes and analyses again), pinned to one core. Target:
p99 ≤ 2 ms (issue 10), first load excluded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def _once(fn: object) -> float:
    assert callable(fn)
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30, help="passes over the replies")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    rss_before = _rss_mb()
    started = time.perf_counter()
    from bot.language import analyzer_state, default_tokenizer

    tokenizer = default_tokenizer()
    tokenizer.load()
    load_seconds = time.perf_counter() - started
    rss_loaded = _rss_mb()

    from bot.core.japanese.analysis import analyze
    from bot.core.japanese.quantities import parse_quantities
    from tests.core.test_analysis import CASES

    replies = [text for text, _ in CASES]
    replies.append("まだ終わってない案件が1件あります、でも3,500円は2時間くらい前に振り込まれました" * 3)
    for text in replies:  # warm-up: pages of the dictionary touched, interpreter caches filled
        analyze(text, tokenizer)

    def timed(fn: object) -> list[float]:
        assert callable(fn)
        samples: list[float] = []
        for _ in range(args.rounds):
            for text in replies:
                t0 = time.perf_counter()
                fn(text)
                samples.append(time.perf_counter() - t0)
        return sorted(samples)

    full = timed(lambda text: analyze(text, tokenizer))
    tokenize_only = timed(tokenizer.tokenize)
    quantities_only = timed(parse_quantities)
    state = analyzer_state()

    print(f"analyzer: SudachiPy + sudachidict_core, split mode C, {len(replies)} replies x {args.rounds}")
    print(f"dictionary load (import + map + first tokenize): {load_seconds * 1e3:.1f} ms")
    print(f"RSS increase after load: {rss_loaded - rss_before:.1f} MB (mostly a shared read-only mmap)")
    print(f"loader's own figure: +{state.rss_increase_bytes / 1e6:.1f} MB, {state.load_seconds * 1e3:.1f} ms")
    for name, samples in (("analyze()", full), ("tokenize only", tokenize_only), ("quantities only", quantities_only)):
        print(
            f"{name:16} p50 {_percentile(samples, 0.50) * 1e6:7.1f} µs   p99 {_percentile(samples, 0.99) * 1e6:7.1f} µs"
            f"   max {samples[-1] * 1e6:7.1f} µs   mean {statistics.fmean(samples) * 1e6:7.1f} µs"
        )
    long_text = (replies[-1] * 20)[:2000]
    long_samples = sorted(_once(lambda: analyze(long_text, tokenizer)) for _ in range(20))
    print(f"analyze() on a 2,000-char message: median {statistics.median(long_samples) * 1e3:.2f} ms")
    p99 = _percentile(full, 0.99)
    print(f"target p99 ≤ 2 ms: {'met' if p99 <= 0.002 else 'MISSED'} ({p99 * 1e3:.3f} ms)")


if __name__ == "__main__":
    main()
