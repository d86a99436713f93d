"""Reservation designs side by side on one hot SKU, with no and with many live holds on it.

Run as `.venv/bin/python -m bench.reservation_designs [--ops N] [--threads N] [--live N]
[--rounds N]`. Each design reserves one unit for a fresh checkout over psycopg directly (one
connection per thread) on backroom's real tables, so the figures compare the SQL, not our
Python: `sum` is the design before issue 12 (product row locked, live holds summed under it, five
statements); `counter-5` the reserved counter in five statements; `counter-3` the counter as the
service does it now (checkout upsert, price read, one statement for holds + amount + counter);
`counter-1` all of it in one statement; `floor` the issue's pgbench transaction (conditional
stock UPDATE + INSERT). Then `service`: `Reservations.reserve` itself. Rounds alternate their
order; medians are printed, with the ratio of each rate to `floor` in the same run.
"""

from __future__ import annotations

import argparse
import statistics
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import text

from bench.harness import Environment, Run, cores, environment, run_threads
from bench.reservation_sql import DESIGNS, SKU, STOCK
from core.clock import utcnow
from core.messages import Outgoing
from db.engine import transaction
from db.unit_of_work import UnitsOfWork
from services.reservations import Reservations


def _no_message(message: Outgoing) -> str:
    raise AssertionError(f"a reservation sends no message, not {message.actor_name}")


def reset(env: Environment, live: int, counted: bool) -> None:
    """Empty the tables, then `live` unexpired holds of other checkouts on the hot SKU."""
    with transaction(env.engine) as s:
        s.execute(text("TRUNCATE reservation, checkout CASCADE"))
        s.execute(text("UPDATE product SET stock = :stock"), {"stock": STOCK})
        if counted:  # a tree before the counter (to measure the old service) has no such column
            s.execute(text("UPDATE product SET reserved = :live"), {"live": live})
        s.execute(
            text(
                "INSERT INTO checkout (checkout_id, email) SELECT 'live-' || n, 'l@example.com' "
                "FROM generate_series(1, :live) AS n"
            ),
            {"live": live},
        )
        s.execute(
            text(
                "INSERT INTO reservation (checkout_id, sku, quantity, expires_at) "
                "SELECT 'live-' || n, :sku, 1, now() + interval '1 hour' FROM generate_series(1, :live) AS n"
            ),
            {"live": live, "sku": SKU},
        )
    with psycopg.connect(env.settings.database_url, autocommit=True) as c:
        c.execute("VACUUM ANALYZE reservation")
        c.execute("VACUUM ANALYZE checkout")


def measure(env: Environment, name: str, ops: int, threads: int, label: str) -> Run:
    per = ops // threads
    if name == "service":
        service = Reservations(UnitsOfWork(env.engine, _no_message), env.settings, utcnow)

        def work(t: int) -> None:
            for n in range(per):
                service.reserve(f"{label}-{t}-{n}", email="b@example.com", cart_id=None, items=[(SKU, 1)])

        return run_threads(threads, work, per * threads)
    step = DESIGNS[name]
    connections = [psycopg.connect(env.settings.database_url) for _ in range(threads)]

    def raw(t: int) -> None:
        c = connections[t]
        for n in range(per):
            with c.transaction():
                step(c, f"{label}-{t}-{n}", datetime.now(UTC) + timedelta(minutes=15))

    try:
        return run_threads(threads, raw, per * threads)
    finally:
        for c in connections:
            c.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reservation_designs")
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--live", type=int, default=20_000, help="live holds on the SKU in the second case")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--designs", nargs="+", default=[*DESIGNS, "service"], choices=[*DESIGNS, "service"])
    args = parser.parse_args(argv)
    names = args.designs
    print(f"{cores()} cores, {args.threads} threads, {args.ops} reservations a round, one hot SKU")
    with environment() as env:
        with transaction(env.engine) as s:
            s.execute(
                text(
                    "INSERT INTO product (sku, name, stock, price, currency) VALUES (:s, :s, :n, 100, 'USD')"
                ),
                {"s": SKU, "n": STOCK},
            )
            counted = bool(
                s.execute(
                    text(
                        "SELECT 1 FROM information_schema.columns "
                        "WHERE table_name = 'product' AND column_name = 'reserved'"
                    )
                ).first()
            )
        rates: dict[tuple[str, int], list[float]] = {}
        for index in range(args.rounds):
            for live in (0, args.live):
                for name in names if index % 2 == 0 else reversed(names):
                    reset(env, live, counted)
                    run = measure(env, name, args.ops, args.threads, f"r{index}")
                    rates.setdefault((name, live), []).append(run.rate)
        print(f"{'design':<10} {'0 live/s':>9} {f'{args.live} live/s':>12} {'flat':>6} {'vs floor':>9}")
        for name in names:
            none, many = (statistics.median(rates[(name, live)]) for live in (0, args.live))
            floor_rate = statistics.median(rates[("floor", 0)])
            print(f"{name:<10} {none:>9,.0f} {many:>12,.0f} {many / none:>6.2f} {none / floor_rate:>9.2f}")
            rounds = [[round(r) for r in rates[(name, live)]] for live in (0, args.live)]
            print(f"           rounds: {rounds[0]} / {rounds[1]}")


if __name__ == "__main__":
    main()
