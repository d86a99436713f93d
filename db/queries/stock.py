"""Reservation queries: single-purpose SQL for checkouts and their holds, in the caller's transaction.

The use cases (reserve, release, expire) live in services/reservations.py; stock changes only
under row locks or by conditional SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlmodel import Session

from core.rules.money import Owed
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


def insert_holds(session: Session, checkout_id: str, items: dict[str, int], expires_at: datetime) -> None:
    session.execute(
        text(
            "INSERT INTO reservation (checkout_id, sku, quantity, expires_at) VALUES (:id, :sku, :qty, :exp)"
        ),
        [{"id": checkout_id, "sku": sku, "qty": qty, "exp": expires_at} for sku, qty in items.items()],
    )


def end_holds(session: Session, checkout_id: str, now: datetime) -> int:
    """End the checkout's active holds (expired if past their expiry, else released): how many."""
    result = session.execute(
        text(
            "UPDATE reservation SET ended_at = :now, "
            "state = CASE WHEN expires_at <= :now THEN 'expired' ELSE 'released' END "
            "WHERE checkout_id = :id AND state = 'active'"
        ),
        {"id": checkout_id, "now": now},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def record_owed(session: Session, checkout_id: str, owed: Owed) -> None:
    """Fix what the checkout owes: a later price change does not move it."""
    session.execute(
        text("UPDATE checkout SET amount = :amount, currency = :currency WHERE checkout_id = :id"),
        {"id": checkout_id, "amount": owed.amount, "currency": owed.currency},
    )


def mark_released(session: Session, checkout_id: str) -> None:
    session.execute(
        text("UPDATE checkout SET state = 'released', updated_at = now() WHERE checkout_id = :id"),
        {"id": checkout_id},
    )


def held_by_others(session: Session, skus: list[str], checkout_id: str, now: datetime) -> dict[str, int]:
    """Units other checkouts hold live. Call after lock_products, in a new statement, so the
    snapshot includes every hold committed by whoever held the locks before us."""
    rows = session.execute(
        text(
            "SELECT sku, SUM(quantity) AS held FROM reservation "
            f"WHERE sku IN :skus AND checkout_id <> :id AND {LIVE} GROUP BY sku"
        ).bindparams(bindparam("skus", expanding=True)),
        {"skus": skus, "id": checkout_id, "now": now},
    )
    return {r.sku: int(r.held) for r in rows}


def expire_batch(session: Session, now: datetime, batch_size: int) -> int:
    """Mark up to `batch_size` past-expiry active holds expired; committed ones are never touched.

    SKIP LOCKED lets two cleanups (or a cleanup and a checkout) work side by side.
    """
    result = session.execute(
        text(
            "WITH due AS (SELECT id FROM reservation WHERE state = 'active' AND expires_at <= :now "
            "ORDER BY expires_at LIMIT :n FOR UPDATE SKIP LOCKED) "
            "UPDATE reservation r SET state = 'expired', ended_at = :now FROM due "
            "WHERE r.id = due.id AND r.state = 'active'"
        ),
        {"now": now, "n": batch_size},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
