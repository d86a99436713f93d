"""The reservation designs `bench.reservation_designs` compares, as psycopg steps on backroom's
tables: one unit of the hot SKU for a fresh checkout, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import psycopg

SKU, STOCK = "hot", 100_000_000
UPSERT = (
    "INSERT INTO checkout (checkout_id, email) VALUES (%s, 'b@example.com') ON CONFLICT (checkout_id) "
    "DO UPDATE SET updated_at = now() RETURNING state, (xmax = 0) AS created, amount"
)
HOLD = "INSERT INTO reservation (checkout_id, sku, quantity, expires_at) VALUES (%s, %s, 1, %s)"
OWED = "UPDATE checkout SET amount = %s, currency = 'USD' WHERE checkout_id = %s"
COUNT = "UPDATE product SET reserved = reserved + 1 WHERE sku = %s AND stock - reserved >= 1 RETURNING sku"
Step = Callable[[psycopg.Connection, str, datetime], None]


def sum_design(c: psycopg.Connection, checkout: str, exp: datetime) -> None:
    c.execute(UPSERT, (checkout,))
    c.execute("SELECT stock, price FROM product WHERE sku = %s FOR UPDATE", (SKU,))
    c.execute(
        "SELECT SUM(quantity) FROM reservation WHERE sku = %s AND checkout_id <> %s "
        "AND state = 'active' AND expires_at > now()",
        (SKU, checkout),
    )
    c.execute(HOLD, (checkout, SKU, exp))
    c.execute(OWED, (100, checkout))


def counter_5(c: psycopg.Connection, checkout: str, exp: datetime) -> None:
    c.execute(UPSERT, (checkout,))
    c.execute("SELECT price, currency FROM product WHERE sku = %s", (SKU,))
    c.execute(HOLD, (checkout, SKU, exp))
    c.execute(OWED, (100, checkout))
    assert c.execute(COUNT, (SKU,)).fetchone()


def counter_3(c: psycopg.Connection, checkout: str, exp: datetime) -> None:
    c.execute(UPSERT, (checkout,))
    c.execute("SELECT price, currency FROM product WHERE sku = %s", (SKU,))
    sql = (
        "WITH held AS (INSERT INTO reservation (checkout_id, sku, quantity, expires_at) "
        "VALUES (%s, %s, 1, %s)), owed AS (UPDATE checkout SET amount = 100, currency = 'USD' "
        "WHERE checkout_id = %s) UPDATE product SET reserved = reserved + 1 "
        "WHERE sku = %s AND stock - reserved >= 1 RETURNING sku"
    )
    assert c.execute(sql, (checkout, SKU, exp, checkout, SKU)).fetchone()


def counter_1(c: psycopg.Connection, checkout: str, exp: datetime) -> None:
    sql = (
        "WITH co AS (INSERT INTO checkout (checkout_id, email, amount, currency) "
        "SELECT %s, 'b@example.com', price, currency FROM product WHERE sku = %s "
        "ON CONFLICT (checkout_id) DO UPDATE SET updated_at = now() RETURNING checkout_id), "
        "held AS (INSERT INTO reservation (checkout_id, sku, quantity, expires_at) "
        "SELECT checkout_id, %s, 1, %s FROM co) UPDATE product SET reserved = reserved + 1 "
        "WHERE sku = %s AND stock - reserved >= 1 RETURNING sku"
    )
    assert c.execute(sql, (checkout, SKU, SKU, exp, SKU)).fetchone()


def floor(c: psycopg.Connection, checkout: str, exp: datetime) -> None:
    assert c.execute("UPDATE product SET stock = stock - 1 WHERE sku = %s AND stock >= 1", (SKU,)).rowcount
    c.execute("INSERT INTO checkout (checkout_id, email) VALUES (%s, 'b@example.com')", (checkout,))
    c.execute(HOLD, (checkout, SKU, exp))


DESIGNS: dict[str, Step] = {
    "sum": sum_design,
    "counter-5": counter_5,
    "counter-3": counter_3,
    "counter-1": counter_1,
    "floor": floor,
}
