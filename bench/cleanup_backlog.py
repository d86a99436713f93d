"""How long the stock-cleanup job takes to clear a backlog of expired holds, and its longest
transaction: 10k, 100k and 1M holds by default (the time should grow linearly).

Run as `.venv/bin/python -m bench.cleanup_backlog [--holds 10000 100000 1000000] [--batch N]
[--skus N]`. The backlog is inserted directly (expired `active` holds, counted on their
products' reserved counters as reservations count them); then the job's use case runs as the
worker would run the chain: `Reservations.expire_reservations()` again for every message it
sends, until it sends none. A side thread samples `pg_stat_activity` every 5 ms for the oldest
open transaction of the run. At the end no expired hold is left active and every counter is 0.
"""

from __future__ import annotations

import argparse
import threading
import time

import psycopg
from sqlalchemy import text

from bench.harness import Environment, cores, environment
from core.clock import utcnow
from core.messages import Outgoing
from db.engine import transaction
from db.unit_of_work import UnitsOfWork
from services.reservations import Reservations

LONGEST = (
    "SELECT COALESCE(EXTRACT(EPOCH FROM max(clock_timestamp() - xact_start)), 0) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
)


def backlog(env: Environment, holds: int, skus: int) -> None:
    """`holds` expired active holds spread over `skus` products, one per checkout and SKU
    (straight psycopg: a million rows take longer than the app's statement timeout)."""
    with psycopg.connect(env.settings.database_url, autocommit=True) as c:
        with c.transaction():
            c.execute("TRUNCATE reservation, checkout, product CASCADE")
            c.execute(
                "INSERT INTO product (sku, name, stock, price, currency) "
                "SELECT 'sku-' || n, 'x', 1000000000, 100, 'USD' FROM generate_series(1, %s) AS n",
                (skus,),
            )
            c.execute(
                "INSERT INTO checkout (checkout_id, email) SELECT 'co-' || n, 'x@example.com' "
                "FROM generate_series(1, %s) AS n",
                (-(-holds // skus),),
            )
            c.execute(
                "INSERT INTO reservation (checkout_id, sku, quantity, expires_at) "
                "SELECT 'co-' || (i / %s + 1), 'sku-' || (i %% %s + 1), 1, "
                "now() - interval '1 hour' + i * interval '1 millisecond' "
                "FROM generate_series(0, %s - 1) AS i",
                (skus, skus, holds),
            )
            c.execute(
                "UPDATE product p SET reserved = h.n FROM (SELECT sku, count(*) AS n FROM reservation "
                "GROUP BY sku) h WHERE p.sku = h.sku"
            )
        c.execute("VACUUM ANALYZE reservation")
        c.execute("VACUUM ANALYZE product")


def drain(env: Environment, batch: int) -> tuple[float, int, float]:
    """Run the chain until it sends nothing more: (seconds, runs, longest transaction seconds)."""
    sent: list[Outgoing] = []
    settings = env.settings.model_copy(update={"stock_cleanup_batch_size": batch})

    def send(message: Outgoing) -> str:  # the next run of the chain
        sent.append(message)
        return f"run-{len(sent)}"

    cleanup = Reservations(UnitsOfWork(env.engine, send), settings, utcnow)
    longest, stop = [0.0], threading.Event()

    def sample() -> None:
        with psycopg.connect(env.settings.database_url, autocommit=True) as c:
            while not stop.is_set():
                row = c.execute(LONGEST).fetchone()
                longest[0] = max(longest[0], float(row[0]) if row else 0.0)
                time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started, runs = time.perf_counter(), 0
    while True:
        runs += 1
        cleanup.expire_reservations()
        if not sent:
            break
        sent.clear()
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    return seconds, runs, longest[0]


def check(env: Environment) -> None:
    with transaction(env.engine) as s:
        active, reserved = s.execute(
            text(
                "SELECT (SELECT count(*) FROM reservation WHERE state = 'active'), "
                "(SELECT COALESCE(sum(reserved), 0) FROM product)"
            )
        ).one()
    assert (active, reserved) == (0, 0), (active, reserved)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cleanup_backlog")
    parser.add_argument("--holds", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--batch", type=int, default=None, help="default: STOCK_CLEANUP_BATCH_SIZE's")
    parser.add_argument("--skus", type=int, default=100)
    args = parser.parse_args(argv)
    with environment() as env:
        batch = args.batch or env.settings.stock_cleanup_batch_size
        print(f"{cores()} cores, batch {batch}, {args.skus} SKUs")
        print(f"{'holds':>10} {'seconds':>8} {'holds/s':>9} {'runs':>5} {'longest xact ms':>16}")
        for holds in args.holds:
            backlog(env, holds, args.skus)
            seconds, runs, longest = drain(env, batch)
            check(env)
            print(f"{holds:>10,} {seconds:>8.2f} {holds / seconds:>9,.0f} {runs:>5} {1000 * longest:>16.0f}")


if __name__ == "__main__":
    main()
