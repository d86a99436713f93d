"""Reservation throughput: `services.reservations.Reservations.reserve` against a hand-written
conditional UPDATE.

Ours: each checkout (a distinct id, one unit of one SKU) goes through the
service's `reserve` in its own unit of work, as the API does: checkout row lock,
repeat check, product rows locked in SKU order, expiry-aware availability,
the hold inserted. Baseline: what the simplest correct hand-written system
would do, over psycopg directly: `UPDATE ... SET stock = stock - 1 WHERE sku
= %s AND stock >= 1`, then an INSERT into a holds table, in one transaction.
Both run on the same threads, against the same database, spread or contended.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import text

from bench.harness import Environment, Result, Run, alternate, run_threads
from core.clock import utcnow
from core.messages import Outgoing
from db.engine import transaction
from db.unit_of_work import UnitsOfWork
from services.products import Products
from services.reservations import Reservations

STOCK = 1_000_000  # ample: no reservation in the benchmark ever meets a shortage
TTL_SECONDS = 900
HOLD = "INSERT INTO bench_hold (checkout_id, sku, quantity, expires_at) VALUES (%s, %s, 1, %s)"
SCRATCH = """
DROP TABLE IF EXISTS bench_hold, bench_product;
CREATE TABLE bench_product (sku text PRIMARY KEY, stock integer NOT NULL CHECK (stock >= 0));
CREATE TABLE bench_hold (
    id bigserial PRIMARY KEY, checkout_id text NOT NULL, sku text NOT NULL REFERENCES bench_product,
    quantity integer NOT NULL, expires_at timestamptz NOT NULL
);
"""


def _no_messages(message: Outgoing) -> str:
    raise AssertionError(f"a reservation sends no message, not {message.actor_name}")


class ReservationBench:
    """Holds the shared set-up of both sides: SKUs, baseline connections, a run counter."""

    def __init__(self, env: Environment, *, threads: int, skus: int) -> None:
        self.env, self.threads = env, threads
        self.skus = [f"bench-{n:03d}" for n in range(skus)]
        self.runs = 0
        units = UnitsOfWork(env.engine, _no_messages)
        settings = env.settings.model_copy(update={"reservation_ttl_seconds": TTL_SECONDS})
        self.reservations = Reservations(units, settings, utcnow)
        products = Products(units, settings, utcnow)
        for sku in self.skus:
            products.put_product(sku, name=sku, stock=STOCK, low_stock_threshold=0, price=100, currency="USD")
        self.connections = [
            psycopg.connect(env.settings.database_url, autocommit=True) for _ in range(threads)
        ]
        self.connections[0].execute(SCRATCH)

    def close(self) -> None:
        for connection in self.connections:
            connection.close()

    def _sku(self, skus: list[str], thread: int, n: int) -> str:
        return skus[(thread * 5 + n) % len(skus)]

    def ours(self, skus: list[str], total: int) -> Run:
        """Reserve `total` checkouts through the service, each in its own transaction;
        a shortage would raise (the stock is ample)."""
        self.runs += 1
        per_thread = total // self.threads
        with transaction(self.env.engine) as session:
            session.execute(text("TRUNCATE reservation, checkout CASCADE"))
            session.execute(text("UPDATE product SET reserved = 0"))  # no hold left to count
        run = self.runs

        def work(thread: int) -> None:
            for n in range(per_thread):
                self.reservations.reserve(
                    f"bench-{run}-{thread}-{n}",
                    email="bench@example.com",
                    cart_id=None,
                    items=[(self._sku(skus, thread, n), 1)],
                )

        timed = run_threads(self.threads, work, per_thread * self.threads)
        with transaction(self.env.engine) as session:
            held = session.execute(
                text("SELECT count(*) FROM reservation WHERE state = 'active'")
            ).scalar_one()
        assert held == per_thread * self.threads, held
        return timed

    def baseline(self, skus: list[str], total: int) -> Run:
        """The same reservations, each one conditional UPDATE plus an INSERT in a transaction."""
        self.runs += 1
        per_thread = total // self.threads
        setup = self.connections[0]
        setup.execute("TRUNCATE bench_hold")
        setup.execute("DELETE FROM bench_product")
        with setup.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bench_product VALUES (%s, %s)", [(sku, STOCK) for sku in self.skus]
            )
        run = self.runs

        def work(thread: int) -> None:
            connection = self.connections[thread]
            for n in range(per_thread):
                expires_at = datetime.now(UTC) + timedelta(seconds=TTL_SECONDS)
                sku = self._sku(skus, thread, n)
                with connection.transaction():
                    updated = connection.execute(
                        "UPDATE bench_product SET stock = stock - 1 WHERE sku = %s AND stock >= 1", (sku,)
                    ).rowcount
                    assert updated == 1, f"shortage on {sku}"
                    connection.execute(
                        HOLD,
                        (f"bench-{run}-{thread}-{n}", sku, expires_at),
                    )

        timed = run_threads(self.threads, work, per_thread * self.threads)
        holds = setup.execute("SELECT count(*) FROM bench_hold").fetchone()
        taken = setup.execute(
            "SELECT %s - sum(stock) FROM bench_product", (STOCK * len(self.skus),)
        ).fetchone()
        assert holds == taken == (per_thread * self.threads,), (holds, taken)
        return timed


def run(env: Environment, *, total: int, threads: int, skus: int, rounds: int) -> list[Result]:
    """Spread over `skus` SKUs, then every thread on one SKU; a short warm-up of each side first."""
    bench = ReservationBench(env, threads=threads, skus=skus)
    total -= total % threads
    every, one = bench.skus, bench.skus[:1]
    try:
        params = f"{total} checkouts x 1 unit, {threads} threads, ttl {TTL_SECONDS}s"
        spread = Result("reserve, spread", f"{params}, {skus} SKUs")
        contended = Result("reserve, one SKU", f"{params}, 1 SKU")
        warm = max(threads, total // 5)
        alternate(
            Result("warm-up", ""), 1, lambda: bench.ours(every, warm), lambda: bench.baseline(every, warm)
        )
        alternate(spread, rounds, lambda: bench.ours(every, total), lambda: bench.baseline(every, total))
        alternate(contended, rounds, lambda: bench.ours(one, total), lambda: bench.baseline(one, total))
        return [spread, contended]
    finally:
        bench.close()
