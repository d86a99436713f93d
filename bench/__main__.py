"""`make bench`: every benchmark, ours and its baseline side by side, then one table of ratios.

Run as `.venv/bin/python -m bench [--rounds N] [--reservations N] [--messages N] [--threads N]`.
Each figure is the median of `--rounds` measured rounds; ours and the baseline
alternate which goes first. Speed is only ever judged by the ratio printed here.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from functools import partial

from bench import jobs, reservations
from bench.harness import Result, cores, environment


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per side (median reported)")
    parser.add_argument("--reservations", type=int, default=2000, help="checkouts per reservation round")
    parser.add_argument("--skus", type=int, default=20, help="SKUs the spread reservation run uses")
    parser.add_argument("--messages", type=int, default=2000, help="messages per job round")
    parser.add_argument("--threads", type=int, default=4, help="client threads / worker threads")
    return parser.parse_args(argv)


def table(results: list[Result]) -> str:
    """Name, ops/s of each side, ours/baseline, and the CPU this process spent per operation."""
    header = (
        f"{'benchmark':<18} {'ours ops/s':>11} {'baseline ops/s':>15} {'ours/baseline':>14}"
        f" {'ours CPU ms/op':>15} {'baseline CPU ms/op':>19}"
    )
    rows = [header, "-" * len(header)]
    for r in results:
        rows.append(
            f"{r.name:<18} {r.rate(r.ours):>11,.0f} {r.rate(r.baseline):>15,.0f} {r.ratio:>14.2f}"
            f" {r.cpu_ms(r.ours):>15.2f} {r.cpu_ms(r.baseline):>19.2f}"
        )
    return "\n".join(rows)


def describe(result: Result) -> str:
    """The parameters of one comparison and every round's ops/s, before the medians are taken."""
    ours, baseline = (
        ", ".join(f"{run.rate:,.0f}" for run in side) for side in (result.ours, result.baseline)
    )
    return (
        f"  {result.name}: {result.params}, {cores()} cores\n    ours     [{ours}]\n    baseline [{baseline}]"
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(f"backroom bench: {cores()} cores, Python {platform.python_version()}, {platform.platform()}")
    print(f"rounds {args.rounds} per side (median reported), threads {args.threads}")
    started = time.perf_counter()
    results: list[Result] = []
    common = {"threads": args.threads, "rounds": args.rounds}
    with environment() as env:
        print(
            f"postgres {env.servers.postgres_admin_url.rsplit('/', 1)[0]}, redis {env.servers.redis_url}, "
            f"namespace {env.settings.redis_namespace}, embedded servers: {env.servers.embedded}"
        )
        benches: list[tuple[str, Callable[[], list[Result]]]] = [
            (
                "reservations",
                partial(reservations.run, env, total=args.reservations, skus=args.skus, **common),
            ),
            ("jobs", partial(jobs.run, env, messages=args.messages, **common)),
        ]
        for label, bench in benches:
            mark = time.perf_counter()
            found = bench()
            print(f"\n{label} ({time.perf_counter() - mark:.1f}s), ops/s per round:")
            for result in found:
                print(describe(result))
            results.extend(found)
    print(f"\n{table(results)}\n")
    print("CPU ms/op: CPU time of this Python process (all its threads) per operation, medians;")
    print("the Postgres and Redis servers' own CPU is not in it.")
    print(f"{cores()} cores; whole run {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
