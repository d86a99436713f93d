"""What one log line costs: `configure_logging`'s whole pipeline, writing to /dev/null.

Run as `.venv/bin/python -m bench.log_line [--lines N] [--rounds R]`. For each format (json,
console) it times a worker's `job.done` line (message context bound), the web's access line
(`request` with its fields), a standard-library line (Dramatiq's own, through the foreign
pre-chain) and a DEBUG call below the level (what a filtered line costs). Settings carry a
production-like set of secrets, so the scrubber's pattern is its real size. Each figure is the
median over rounds of ns per line (`time.perf_counter_ns`), CPU of this one thread.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import time
from collections.abc import Callable

import structlog

from core.logging import configure_logging, get_logger
from core.settings import Settings

SECRETS = {
    "database_url": "postgresql://backroom:S3cretDbPass-bench@127.0.0.1:5432/backroom",
    "redis_url": "redis://127.0.0.1:6379/0",
    "internal_api_secret": "internal-api-secret-bench-0123456789",
    "admin_api_token": "admin-api-token-bench-0123456789abcdef",
    "cron_secret": "cron-secret-bench-0123",
    "stripe_webhook_secret": "whsec_old_bench_one,whsec_new_bench_two",
    "resend_api_key": "re_live_bench_0123456789",
    "stripe_api_key": "sk_test_bench_0123456789abcdef",
    "metrics_token": "metrics-token-bench-0123",
}


WORKER = get_logger("backroom.worker")  # module-level loggers, as the middleware has them
API = get_logger("backroom.api")
DRAMATIQ = logging.getLogger("dramatiq.worker.WorkerThread")


def job_done() -> None:
    structlog.contextvars.bind_contextvars(
        message_id="5f0c6a1e-8d43-4a57-9f2b-1b2c3d4e5f60", actor="email.send", queue="email", attempt=1
    )
    WORKER.info("job.done")


def access() -> None:
    structlog.contextvars.bind_contextvars(request_id="9b1d2f7c4a6e48b0a1c3d5e7f9012345")
    API.info("request", method="POST", path="/webhooks/stripe", status=200, client="127.0.0.1", ms=1.84)


def stdlib() -> None:
    DRAMATIQ.info("Worker thread is ready for action.")


def filtered() -> None:
    WORKER.debug("job.debug", detail="below the level")


LINES: dict[str, Callable[[], None]] = {
    "job.done": job_done,
    "access": access,
    "stdlib": stdlib,
    "debug (filtered)": filtered,
}


def per_line(line: Callable[[], None], count: int) -> float:
    """ns per call of `line`, context cleared between calls as the middleware does."""
    clear = structlog.contextvars.clear_contextvars
    started = time.perf_counter_ns()
    for _ in range(count):
        line()
        clear()
    return (time.perf_counter_ns() - started) / count


def measure(log_format: str, count: int, rounds: int) -> dict[str, float]:
    settings = Settings(_env_file=None, log_format=log_format, log_level="INFO", **SECRETS)  # type: ignore[call-arg,arg-type]
    with open(os.devnull, "w") as sink:
        with contextlib.redirect_stderr(sink):  # configure_logging writes to stderr as it is now
            configure_logging(settings)
        results: dict[str, float] = {}
        for name, line in LINES.items():
            per_line(line, min(count, 2000))  # warm-up: caches, the logger's first use
            results[name] = statistics.median(per_line(line, count) for _ in range(rounds))
        logging.getLogger().handlers[:] = []  # the sink closes with this block
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.log_line", description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000, help="lines per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per figure (median reported)")
    args = parser.parse_args(argv)
    figures = {fmt: measure(fmt, args.lines, args.rounds) for fmt in ("json", "console")}
    print(f"{'line':<18}{'json ns':>12}{'console ns':>12}")
    for name in LINES:
        print(f"{name:<18}{figures['json'][name]:>12,.0f}{figures['console'][name]:>12,.0f}")


if __name__ == "__main__":
    main()
