"""Reservations over HTTP on one hot SKU, fresh checkouts, against the same transaction in pgbench.

Ours: `POST /v1/checkouts/{id}/reservation` for one unit of one SKU, a new checkout id each
request (bench/lua/reserve.lua), on backroom's gunicorn. Baseline: pgbench running the
transaction as raw SQL, a conditional UPDATE of the product's stock and an INSERT of the hold,
on tables made here. Each comes again with `live` holds on the SKU inserted directly before the
round (unexpired, as a flash sale leaves them). After every round of ours: 0 oversold (live
holds <= stock), every 201 is one live hold, and the product's reserved counter, where the schema
has one, equals its active holds.
"""

from __future__ import annotations

from bench.harness import Result, Run
from bench.loadgen import pgbench, wrk
from bench.stage import Stage

SKU, STOCK = "bench-hot", 10_000_000
SCRATCH = f"""
DROP TABLE IF EXISTS pg_hold, pg_product;
CREATE TABLE pg_product (sku text PRIMARY KEY, stock integer NOT NULL CHECK (stock >= 0));
CREATE TABLE pg_hold (
    id bigserial PRIMARY KEY, checkout_id text NOT NULL, sku text NOT NULL REFERENCES pg_product,
    quantity integer NOT NULL, expires_at timestamptz NOT NULL
);
INSERT INTO product (sku, name, stock, price, currency) VALUES ('{SKU}', 'hot', {STOCK}, 100, 'USD');
"""  # noqa: S608  (constants only)
# The baseline transaction; \\gset fails the transaction when the UPDATE finds too little stock.
TRANSACTION = f"""BEGIN;
UPDATE pg_product SET stock = stock - 1 WHERE sku = '{SKU}' AND stock >= 1 RETURNING stock \\gset
INSERT INTO pg_hold (checkout_id, sku, quantity, expires_at)
    VALUES (gen_random_uuid()::text, '{SKU}', 1, now() + interval '900 seconds');
END;
"""  # noqa: S608
LIVE = (
    "SELECT COALESCE(sum(quantity), 0) FROM reservation "
    "WHERE sku = %s AND state = 'active' AND expires_at > now()"
)


class ReservationBench:
    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        stage.sql(SCRATCH)
        found = stage.sql(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_name = 'product' AND column_name = 'reserved'"
        )
        self.counter = bool(found)  # the reserved counter of issue 12, once migrated

    def ours(self, live: int) -> Run:
        stage = self.stage
        stage.sql("TRUNCATE reservation, checkout CASCADE")
        if self.counter:
            stage.sql("UPDATE product SET reserved = %s WHERE sku = %s", (live, SKU))
        stage.sql(
            "INSERT INTO checkout (checkout_id, email, amount, currency) "
            "SELECT 'live-' || g, 'bench@example.com', 100, 'USD' FROM generate_series(1, %s) g",
            (live,),
        )
        stage.sql(
            "INSERT INTO reservation (checkout_id, sku, quantity, expires_at) "
            "SELECT 'live-' || g, %s, 1, now() + interval '1 hour' FROM generate_series(1, %s) g",
            (SKU, live),
        )
        stage.sql("ANALYZE product, checkout, reservation")
        prefix = stage.next_id()
        token = stage.env.settings.internal_api_secret.get_secret_value()
        load = wrk(
            stage.web.url,
            "reserve",
            [prefix, token, SKU],
            seconds=stage.seconds,
            connections=stage.connections,
        )
        stage.settle()
        held = stage.number(LIVE, (SKU,))
        stock = stage.number("SELECT stock FROM product WHERE sku = %s", (SKU,))
        mine = stage.number("SELECT count(*) FROM reservation WHERE checkout_id LIKE %s", (f"{prefix}-%",))
        stage.checks.expect(
            "reservations: 0 oversold (live holds <= stock)", held <= stock, f"{held} > {stock}"
        )
        stage.checks.expect("reservations: every request 201", load.failed == 0, f"{load.failed} failed")
        stage.checks.expect(
            "reservations: a hold for every 201", mine >= load.ok, f"{mine} holds for {load.ok} answers"
        )
        if self.counter:
            counted = stage.number("SELECT reserved FROM product WHERE sku = %s", (SKU,))
            active = stage.number("SELECT count(*) FROM reservation WHERE state = 'active'")
            stage.checks.expect(
                "reservations: counter = active holds", counted == active, f"{counted} vs {active}"
            )
        return load.run

    def baseline(self, live: int) -> Run:
        stage = self.stage
        stage.sql("TRUNCATE pg_hold")
        stage.sql("DELETE FROM pg_product")
        stage.sql("INSERT INTO pg_product VALUES (%s, %s)", (SKU, STOCK - live))
        stage.sql(
            "INSERT INTO pg_hold (checkout_id, sku, quantity, expires_at) "
            "SELECT 'live-' || g, %s, 1, now() + interval '1 hour' FROM generate_series(1, %s) g",
            (SKU, live),
        )
        stage.sql("ANALYZE pg_product, pg_hold")
        load = pgbench(
            stage.env.settings.database_url, TRANSACTION, seconds=stage.seconds, connections=stage.connections
        )
        holds = stage.number("SELECT count(*) FROM pg_hold")
        left = stage.number("SELECT stock FROM pg_product")
        stage.checks.expect(
            "pgbench reservations: 0 oversold (holds + stock = initial)",
            holds + left == STOCK,
            f"{holds} holds, {left} left of {STOCK}",
        )
        stage.checks.expect("pgbench reservations: no failed transaction", load.failed == 0, f"{load.failed}")
        return load.run


def run(stage: Stage, *, live: int) -> list[Result]:
    bench = ReservationBench(stage)
    results = []
    for holds in (0, live):
        sides = stage.measure(
            {"ours": lambda h=holds: bench.ours(h), "pgbench": lambda h=holds: bench.baseline(h)}  # type: ignore[misc]
        )
        name = "reserve, hot SKU" if holds == 0 else f"reserve, {holds:,} live holds"
        results.append(Result(name, "pgbench UPDATE + INSERT", sides["ours"], sides["pgbench"]))
    return results
