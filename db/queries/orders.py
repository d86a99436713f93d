"""Order queries: a checkout's holds become an order, in the caller's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlmodel import Session

from core.rules.orders import Hold


@dataclass(frozen=True)
class OrderRow:
    order_id: str
    checkout_id: str
    email: str
    state: str
    stock_deducted: bool
    provider: str
    payment_id: str | None
    amount: int | None
    currency: str | None
    note: str | None
    lines: dict[str, int]
    created_at: datetime
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "checkout_id": self.checkout_id,
            "email": self.email,
            "state": self.state,
            "stock_deducted": self.stock_deducted,
            "provider": self.provider,
            "payment_id": self.payment_id,
            "amount": self.amount,
            "currency": self.currency,
            "note": self.note,
            "lines": [{"sku": sku, "quantity": qty} for sku, qty in self.lines.items()],
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def lock_checkout(session: Session, checkout_id: str) -> Any | None:
    return session.execute(
        text(
            "SELECT checkout_id, email, cart_id, state, amount, currency FROM checkout "
            "WHERE checkout_id = :id FOR UPDATE"
        ),
        {"id": checkout_id},
    ).one_or_none()


def checkout_holds(session: Session, checkout_id: str) -> list[Hold]:
    rows = session.execute(
        text(
            "SELECT id, sku, quantity, state, created_at FROM reservation "
            "WHERE checkout_id = :id AND state IN ('active', 'expired', 'released')"
        ),
        {"id": checkout_id},
    )
    return [Hold(r.id, r.sku, r.quantity, r.state, r.created_at) for r in rows]


def end_holds(session: Session, hold_ids: list[int], state: str, now: datetime) -> None:
    if hold_ids:
        session.execute(
            text("UPDATE reservation SET state = :state, ended_at = :now WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": hold_ids, "state": state, "now": now},
        )


def set_checkout_state(session: Session, checkout_id: str, state: str) -> None:
    session.execute(
        text("UPDATE checkout SET state = :state, updated_at = now() WHERE checkout_id = :id"),
        {"id": checkout_id, "state": state},
    )


def insert_order(session: Session, *, checkout: Any, items: dict[str, int], **values: Any) -> str:
    """A new order with its lines; the unique checkout_id makes a second one impossible."""
    order_id = f"ord_{uuid.uuid4().hex[:24]}"
    session.execute(
        text(
            "INSERT INTO customer_order (order_id, checkout_id, email, cart_id, state, stock_deducted, "
            "provider, payment_id, amount, currency, note) VALUES (:order_id, :checkout_id, :email, "
            ":cart_id, :state, :stock_deducted, :provider, :payment_id, :amount, :currency, :note)"
        ),
        {
            "order_id": order_id,
            "checkout_id": checkout.checkout_id,
            "email": checkout.email,
            "cart_id": checkout.cart_id,
            **values,
        },
    )
    session.execute(
        text("INSERT INTO order_line (order_id, sku, quantity) VALUES (:o, :sku, :qty)"),
        [{"o": order_id, "sku": sku, "qty": qty} for sku, qty in items.items()],
    )
    return order_id


def find_order(
    session: Session,
    *,
    order_id: str | None = None,
    checkout_id: str | None = None,
    payment_id: str | None = None,
    lock: bool = False,
) -> OrderRow | None:
    column, value = next(
        (c, v)
        for c, v in (("order_id", order_id), ("checkout_id", checkout_id), ("payment_id", payment_id))
        if v is not None
    )
    row = session.execute(
        text(
            f"SELECT * FROM customer_order WHERE {column} = :v ORDER BY created_at LIMIT 1"
            + (" FOR UPDATE" if lock else "")
        ),
        {"v": value},
    ).one_or_none()
    if row is None:
        return None
    lines = session.execute(
        text("SELECT sku, quantity FROM order_line WHERE order_id = :o ORDER BY sku"), {"o": row.order_id}
    )
    return OrderRow(
        row.order_id,
        row.checkout_id,
        row.email,
        row.state,
        row.stock_deducted,
        row.provider,
        row.payment_id,
        row.amount,
        row.currency,
        row.note,
        {r.sku: r.quantity for r in lines},
        row.created_at,
        row.updated_at,
    )


def update_order(
    session: Session, order_id: str, *, state: str, stock_deducted: bool, note: str | None
) -> None:
    session.execute(
        text(
            "UPDATE customer_order SET state = :state, stock_deducted = :sd, note = COALESCE(:note, note), "
            "updated_at = now() WHERE order_id = :o"
        ),
        {"o": order_id, "state": state, "sd": stock_deducted, "note": note},
    )
