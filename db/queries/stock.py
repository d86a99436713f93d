"""Reservation queries: single-purpose SQL for checkouts and their holds, in the caller's transaction.

The use cases (reserve, release, expire) live in services/reservations.py; stock changes only
under row locks or by conditional SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session

from core.rules.money import Owed
from db.queries import reserved
from db.queries.products import LIVE


@dataclass(frozen=True)
class LockedCheckout:
    state: str
    created: bool  # this call created the row: it has no holds yet
    owed: Owed | None  # what its last reservation fixed, if any


@dataclass(frozen=True)
class LiveHold:
    sku: str
    quantity: int
    expires_at: datetime


def lock_or_create_checkout(
    session: Session, checkout_id: str, email: str, cart_id: str | None
) -> LockedCheckout:
    """Create or update the checkout and lock its row in one statement.

    ON CONFLICT DO UPDATE takes the row lock that serialises calls for one checkout; a
    converted checkout stays converted, any other becomes open again.
    """
    row = session.execute(
        text(
            "INSERT INTO checkout (checkout_id, email, cart_id) VALUES (:id, :email, :cart) "
            "ON CONFLICT (checkout_id) DO UPDATE SET email = excluded.email, cart_id = excluded.cart_id, "
            "updated_at = now(), "
            "state = CASE WHEN checkout.state = 'converted' THEN 'converted' ELSE 'open' END "
            "RETURNING state, (xmax = 0) AS created, amount, currency"
        ),
        {"id": checkout_id, "email": email, "cart": cart_id},
    ).one()
    owed = Owed(int(row.amount), str(row.currency)) if row.amount is not None else None
    return LockedCheckout(str(row.state), bool(row.created), owed)


def lock_checkout_state(session: Session, checkout_id: str) -> str | None:
    """Lock the checkout's row: its state, or None when there is no such checkout."""
    state = session.execute(
        text("SELECT state FROM checkout WHERE checkout_id = :id FOR UPDATE"), {"id": checkout_id}
    ).scalar_one_or_none()
    return None if state is None else str(state)


def live_holds(session: Session, checkout_id: str, now: datetime) -> list[LiveHold]:
    """The checkout's holds that still count against availability."""
    rows = session.execute(
        text(f"SELECT sku, quantity, expires_at FROM reservation WHERE checkout_id = :id AND {LIVE}"),
        {"id": checkout_id, "now": now},
    )
    return [LiveHold(r.sku, int(r.quantity), r.expires_at) for r in rows]


def hold_and_reserve(
    session: Session,
    checkout_id: str,
    items: dict[str, int],
    expires_at: datetime,
    owed: Owed,
    deltas: dict[str, int],
) -> set[str]:
    """Insert the checkout's holds, fix what it owes and add `deltas` to the products' reserved
    counters where they fit, in one statement: the SKUs whose counter changed.

    The counter UPDATE is the only part that locks a product row, so a reservation holds that
    lock for this one statement and the commit. A SKU missing from the answer is short: the
    caller ends expired holds and changes it again (reserved.change), or rolls back.
    """
    reserved.lock_in_order(session, deltas)
    # No counter moves when the new holds replace old ones unit for unit (even expired ones).
    change, params = (
        reserved.change_sql(deltas) if deltas else ("none AS (SELECT) SELECT NULL WHERE false", {})
    )
    holds = ", ".join(f"(CAST(:h{i} AS varchar), CAST(:n{i} AS integer))" for i in range(len(items)))
    for i, (sku, quantity) in enumerate(sorted(items.items())):
        params |= {f"h{i}": sku, f"n{i}": quantity}
    params |= {"id": checkout_id, "exp": expires_at, "amount": owed.amount, "currency": owed.currency}
    rows = session.execute(
        text(
            "WITH held AS (INSERT INTO reservation (checkout_id, sku, quantity, expires_at) "
            f"SELECT :id, h.sku, h.q, :exp FROM (VALUES {holds}) AS h(sku, q)), "
            "owed AS (UPDATE checkout SET amount = :amount, currency = :currency "
            f"WHERE checkout_id = :id), {change}"
        ),
        params,
    )
    return {str(sku) for sku in rows.scalars()}


def end_holds(session: Session, checkout_id: str, now: datetime, state: str | None = None) -> dict[str, int]:
    """End the checkout's active holds in `state` (default: expired if past their expiry, else
    released): the units they held by SKU, for the caller to take off the reserved counters."""
    rows = session.execute(
        text(
            "UPDATE reservation SET ended_at = :now, state = COALESCE(CAST(:state AS varchar), "
            "CASE WHEN expires_at <= :now THEN 'expired' ELSE 'released' END) "
            "WHERE checkout_id = :id AND state = 'active' RETURNING sku, quantity"
        ),
        {"id": checkout_id, "now": now, "state": state},
    )
    return {str(sku): int(quantity) for sku, quantity in rows}


def mark_released(session: Session, checkout_id: str) -> None:
    session.execute(
        text("UPDATE checkout SET state = 'released', updated_at = now() WHERE checkout_id = :id"),
        {"id": checkout_id},
    )
