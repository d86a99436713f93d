"""A new checkout's reservation as one statement: the storefront's hottest write.

Most reservations are the first one of their checkout: a new id, items that exist, are priced
in one currency and fit. For that case the general path (services/reservations.py) costs six
round trips (the pool's pre-ping, BEGIN, the checkout, the prices, the holds and counters,
COMMIT), and the web worker's Python between them, not PostgreSQL, was what limited a flash sale
(docs/performance.md). Here it is one call of `reserve_new_checkout()` (migration 0010) on an
autocommit connection, which commits as it returns. It writes nothing and answers None whenever
the case is not that one, and the caller then takes the general path, which decides everything
else (repeats, changes, unknown SKUs, ending expired holds that stand in the way, shortages)
exactly as before. A SKU that does not fit raises BR001 inside the call, undoing all of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from core.rules.money import Owed

DOES_NOT_FIT = "BR001"  # raised by reserve_new_checkout(); the call changed nothing

# Run on the driver's cursor: SQLAlchemy's execution of it (compiled-statement cache, execution
# context, result metadata) cost the web worker more CPU than the call itself. psycopg prepares
# it server-side after its fifth use on a connection, unless DATABASE_POOLER=pgbouncer turned
# that off (db/engine.py).
RESERVE = (
    "SELECT amount, currency FROM reserve_new_checkout("
    "%s::varchar, %s::varchar, %s::varchar, %s::varchar[], %s::integer[], %s, %s)"
)


def reserve_new_checkout(
    connection: Connection,
    checkout_id: str,
    email: str,
    cart_id: str | None,
    items: dict[str, int],
    expires_at: datetime,
    now: datetime,
) -> Owed | None:
    """Create the checkout with its holds and reserve `items` (merged, in SKU order), committed;
    what it owes. None when nothing was written: the checkout exists, an item is unknown,
    unpriced or in another currency, or does not fit (the general path says which)."""
    params = (checkout_id, email, cart_id, _array(items), _array(items.values()), expires_at, now)
    try:
        row = _call(connection, params)
    except DBAPIError as error:
        if isinstance(error.orig, pg_errors.Error) and error.orig.sqlstate == DOES_NOT_FIT:
            return None
        # This pool has no pre-ping: after a restart or failover its first use fails. The
        # general path (pre-pinged) then answers; had the call committed, as a repeat.
        if error.connection_invalidated:
            return None
        raise
    return None if row is None else Owed(int(row[0]), str(row[1]))


def _array(values: Iterable[object]) -> str:
    """A PostgreSQL array literal, every element quoted. psycopg's list dumpers look the
    elements over on every call, at 20-40 us of web CPU for these two lists: more than the
    rest of the parameters together."""
    quoted = (str(value).replace("\\", "\\\\").replace('"', '\\"') for value in values)
    return "{" + ",".join(f'"{value}"' for value in quoted) + "}"


def _call(connection: Connection, params: tuple[object, ...]) -> tuple[Any, ...] | None:
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        with driver.cursor() as cursor:
            cursor.execute(RESERVE, params)
            return cursor.fetchone()
    except BaseException as error:
        # What Connection.execute does with any error, so the caller sees what it always saw: a
        # DBAPIError for a driver error (the API answers 503 for a lost database), a dropped
        # connection invalidated with the rest of its pool, and one interrupted mid-call (an exit
        # signal) never returned to the pool with a statement in flight.
        connection._handle_dbapi_exception(error, RESERVE, params, None, None)
