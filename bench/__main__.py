"""`make bench`: the hot paths over HTTP and the job worker, each beside its baseline, one table.

Run as `.venv/bin/python -m bench [--quick] [--rounds N] [--seconds S] [--connections N]
[--live N] [--messages N] [--in-process]`. Each figure is the median of `--rounds` measured
rounds after a warm-up; the sides of a comparison alternate their order (ABBA). Speed is only
ever judged by the ratios printed here; every round is also checked for correctness, and a
failed check fails the run.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

from pydantic import SecretStr

from bench import http_reservations, http_webhooks, jobs, reservations
from bench.checks import Checks
from bench.harness import Environment, Result, cores, environment
from bench.memory import Memory
from bench.report import describe, table
from bench.stage import Stage
from bench.web import APP, TRIVIAL, serve
from bench.webhook_events import SECRET


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run of everything (smoke test)")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per side (median reported)")
    parser.add_argument("--seconds", type=float, default=8, help="length of one HTTP / pgbench round")
    parser.add_argument("--connections", type=int, default=16, help="concurrent HTTP / pgbench clients")
    parser.add_argument("--live", type=int, default=20_000, help="live holds on the SKU in the second run")
    parser.add_argument("--messages", type=int, default=2000, help="messages per job round")
    parser.add_argument("--threads", type=int, default=4, help="worker threads of today's job setting")
    parser.add_argument(
        "--only", choices=("reservations", "webhooks", "jobs"), help="run one of the paths (e.g. to profile)"
    )
    parser.add_argument("--in-process", action="store_true", help="also the in-process reservation bench")
    parser.add_argument("--reservations", type=int, default=2000, help="checkouts per in-process round")
    parser.add_argument("--skus", type=int, default=20, help="SKUs of the in-process spread run")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds, args.live, args.messages = 1, 1, 500, 200
        args.reservations = 40
    return args


def web_settings(env: Environment) -> Environment:
    """Production-like web settings: JSON logs at INFO, a Stripe secret, limits the load cannot hit
    (the limiter still counts every request in Redis)."""
    unlimited = "100000000/minute"
    settings = env.settings.model_copy(
        update={
            "log_format": "json",
            "log_level": "INFO",
            "stripe_webhook_secret": SecretStr(SECRET),
            "rate_limit_storefront": unlimited,
            "rate_limit_webhooks": unlimited,
            "rate_limit_public": unlimited,
        }
    )
    return Environment(env.servers, settings, env.engine)


def http(env: Environment, args: argparse.Namespace, memory: Memory, checks: Checks) -> list[Result]:
    env = web_settings(env)
    with serve(env.settings, ("web", APP), ("trivial", TRIVIAL)) as (web, trivial):
        stage = Stage(env, web, trivial, args.seconds, args.connections, args.rounds, memory, checks)
        results: list[Result] = []
        for label, bench in (
            ("reservations", lambda: http_reservations.run(stage, live=args.live)),
            ("webhooks", lambda: http_webhooks.run(stage)),
        ):
            if args.only not in (None, label):
                continue
            mark = time.perf_counter()
            found = bench()
            print(f"\n{label} over HTTP ({time.perf_counter() - mark:.0f}s), ops/s per round:", flush=True)
            for result in found:
                print(describe(result))
            results += found
        return results


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(f"backroom bench: {cores()} cores, Python {platform.python_version()}, {platform.platform()}")
    print(
        f"rounds {args.rounds} per side after a warm-up (median reported), {args.seconds:g}s a round, "
        f"{args.connections} connections"
    )
    started = time.perf_counter()
    memory, checks = Memory(), Checks()
    results: list[Result] = []
    with environment() as env:
        print(
            f"postgres {env.servers.postgres_admin_url.rsplit('/', 1)[0]}, redis {env.servers.redis_url}, "
            f"namespace {env.settings.redis_namespace}, embedded servers: {env.servers.embedded}",
            flush=True,
        )
        if args.only != "jobs":
            results += http(env, args, memory, checks)
        common = {"threads": args.threads, "rounds": args.rounds}
        found = (
            jobs.run(env, messages=args.messages, memory=memory, checks=checks, **common)
            if args.only in (None, "jobs")
            else []
        )
        if args.in_process:
            found += reservations.run(env, total=args.reservations, skus=args.skus, **common)
        print("\njobs and in-process benches, ops/s per round:")
        for result in found:
            print(describe(result))
        results += found
    print(f"\n{table(results)}\n")
    print("ratio = ours / baseline (medians). p50/p99: latency seen by the load generator.")
    print("memory:", *memory.report(), sep="\n")
    print(*checks.report(), sep="\n")
    print(f"{cores()} cores; whole run {time.perf_counter() - started:.0f}s")
    if not checks.ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
