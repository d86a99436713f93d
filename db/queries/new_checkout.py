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

from datetime import datetime

from psycopg import errors as pg_errors
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from core.rules.money import Owed

DOES_NOT_FIT = "BR001"  # raised by reserve_new_checkout(); the call changed nothing

RESERVE = text(
    "SELECT amount, currency FROM reserve_new_checkout("
    "CAST(:checkout AS varchar), CAST(:email AS varchar), CAST(:cart AS varchar), "
    "CAST(:skus AS varchar[]), CAST(:quantities AS integer[]), :expires, :now)"
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
    params = {
        "checkout": checkout_id,
        "email": email,
        "cart": cart_id,
        "skus": list(items),
        "quantities": list(items.values()),
        "expires": expires_at,
        "now": now,
    }
    try:
        row = connection.execute(RESERVE, params).first()
    except DBAPIError as error:
        if isinstance(error.orig, pg_errors.Error) and error.orig.sqlstate == DOES_NOT_FIT:
            return None
        # This pool has no pre-ping: after a restart or failover its first use fails. The
        # general path (pre-pinged) then answers; had the call committed, as a repeat.
        if error.connection_invalidated:
            return None
        raise
    return None if row is None else Owed(int(row.amount), str(row.currency))
