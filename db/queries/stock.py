"""Reservation queries: hold, replace, release and expire; stock changes only under row locks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlmodel import Session

from core.rules import stock as rules
from core.rules.money import Owed, amount_owed
from db.queries.products import LIVE, lock_priced_products


class UnknownSkus(Exception):
    def __init__(self, skus: list[str]) -> None:
        super().__init__(f"unknown SKUs: {', '.join(skus)}")
        self.skus = skus


class CheckoutClosed(Exception):
    """The checkout already became an order; its reservation cannot change."""


@dataclass
class ReserveOutcome:
    expires_at: datetime | None = None
    items: dict[str, int] = field(default_factory=dict)
    shortages: list[rules.Shortage] = field(default_factory=list)
    repeated: bool = False
    owed: Owed | None = None


def _lock_checkout(session: Session, checkout_id: str, email: str, cart_id: str | None) -> Any:
    """Create or update the checkout and lock its row in one statement: state, created, owed.

    ON CONFLICT DO UPDATE takes the row lock that serialises calls for one checkout.
    A shortage rolls the whole transaction back, so the update is never seen alone.
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
    return row


def _end_holds(session: Session, checkout_id: str, now: datetime) -> int:
    result = session.execute(
        text(
            "UPDATE reservation SET ended_at = :now, "
            "state = CASE WHEN expires_at <= :now THEN 'expired' ELSE 'released' END "
            "WHERE checkout_id = :id AND state = 'active'"
        ),
        {"id": checkout_id, "now": now},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def reserve(
    session: Session,
    *,
    checkout_id: str,
    email: str,
    cart_id: str | None,
    items: dict[str, int],
    now: datetime,
    ttl_seconds: int,
) -> ReserveOutcome:
    """All or nothing: hold `items` for the checkout, replacing what it held before.

    The checkout row lock serialises repeats of one checkout; product rows are
    locked in SKU order, so the availability read below cannot go stale before
    the insert. A shortage returns the shortages and leaves the caller to roll back.
    """
    checkout = _lock_checkout(session, checkout_id, email, cart_id)
    created = bool(checkout.created)
    if checkout.state == "converted":
        raise CheckoutClosed(checkout_id)
    live = (
        []
        if created
        else session.execute(
            text(f"SELECT sku, quantity, expires_at FROM reservation WHERE checkout_id = :id AND {LIVE}"),
            {"id": checkout_id, "now": now},
        ).all()
    )
    if rules.is_same_request(items, {r.sku: r.quantity for r in live}) and checkout.amount is not None:
        owed = Owed(int(checkout.amount), str(checkout.currency))
        return ReserveOutcome(min(r.expires_at for r in live), items, repeated=True, owed=owed)

    priced = lock_priced_products(session, list(items))
    missing = [sku for sku in items if sku not in priced]
    if missing:
        raise UnknownSkus(missing)
    on_hand = {sku: stock for sku, (stock, _) in priced.items()}
    # Raises Unpriced or MixedCurrency: the caller answers 409 / 422 and rolls back.
    owed = amount_owed(items, {sku: price for sku, (_, price) in priced.items()})
    held = held_by_others(session, list(items), checkout_id, now)
    shortages = rules.find_shortages(items, on_hand, held)
    if shortages:
        return ReserveOutcome(items=items, shortages=shortages)

    if not created:
        _end_holds(session, checkout_id, now)
    expires_at = rules.expiry(now, ttl_seconds)
    session.execute(
        text(
            "INSERT INTO reservation (checkout_id, sku, quantity, expires_at) VALUES (:id, :sku, :qty, :exp)"
        ),
        [{"id": checkout_id, "sku": sku, "qty": qty, "exp": expires_at} for sku, qty in items.items()],
    )
    # What this checkout owes is fixed now: a later price change does not move it.
    session.execute(
        text("UPDATE checkout SET amount = :amount, currency = :currency WHERE checkout_id = :id"),
        {"id": checkout_id, "amount": owed.amount, "currency": owed.currency},
    )
    return ReserveOutcome(expires_at=expires_at, items=items, owed=owed)


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


def release(session: Session, checkout_id: str, now: datetime) -> int | None:
    """End every hold of an open checkout; None when the checkout is unknown."""
    state = session.execute(
        text("SELECT state FROM checkout WHERE checkout_id = :id FOR UPDATE"), {"id": checkout_id}
    ).scalar_one_or_none()
    if state is None:
        return None
    if state == "converted":
        raise CheckoutClosed(checkout_id)
    ended = _end_holds(session, checkout_id, now)
    session.execute(
        text("UPDATE checkout SET state = 'released', updated_at = now() WHERE checkout_id = :id"),
        {"id": checkout_id},
    )
    return ended


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
