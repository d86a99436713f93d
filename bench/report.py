"""The printed output: every round of a comparison, then one table of medians and ratios."""

from __future__ import annotations

import statistics

from bench.harness import Result, Run


def _median(runs: list[Run], field: str) -> float | None:
    values = [getattr(run, field) for run in runs if getattr(run, field) is not None]
    return statistics.median(values) if values else None


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def describe(result: Result) -> str:
    """One comparison's every round (ops/s), before the medians are taken."""
    ours, baseline = (
        ", ".join(f"{run.rate:,.0f}" for run in side) for side in (result.ours, result.baseline)
    )
    return f"  {result.name} vs {result.params}\n    ours     [{ours}]\n    baseline [{baseline}]"


def table(results: list[Result]) -> str:
    """Per comparison: ours ops/s p50 p99, the baseline's, and ours / baseline."""
    header = (
        f"{'path':<26} {'ours/s':>8} {'p50 ms':>7} {'p99 ms':>7}  {'baseline':<36} {'base/s':>8}"
        f" {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6}"
    )
    rows = [header, "-" * len(header)]
    for r in results:
        rows.append(
            f"{r.name:<26} {r.rate(r.ours):>8,.0f} {_ms(_median(r.ours, 'p50_ms')):>7}"
            f" {_ms(_median(r.ours, 'p99_ms')):>7}  {r.params[:36]:<36} {r.rate(r.baseline):>8,.0f}"
            f" {_ms(_median(r.baseline, 'p50_ms')):>7} {_ms(_median(r.baseline, 'p99_ms')):>7}"
            f" {r.ratio:>6.2f}"
        )
    return "\n".join(rows)
