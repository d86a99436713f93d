"""Payments that need a person, written straight into the tables, for tests of the fronts that list
them (API, CLI, /admin). The payment logic that fills these tables in production is tested on its own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from db.engine import transaction


def later_than_everything(engine: Engine) -> datetime:
    """A time after every row already listed, so rows made at it sort first (newest first)."""
    with transaction(engine) as session:
        latest = session.execute(
            text(
                "SELECT greatest((SELECT max(created_at) FROM customer_order), "
                "(SELECT max(created_at) FROM unmatched_payment))"
            )
        ).scalar_one()
    return max(latest or datetime.now(UTC), datetime.now(UTC)) + timedelta(days=1)


def insert_underpaid_order(
    engine: Engine,
    *,
    paid: int = 100,
    owed: int = 5000,
    currency: str = "USD",
    note: str | None = None,
    created_at: datetime | None = None,
) -> str:
    """A product, a checkout that owes `owed`, and its order in needs_attention paid `paid`."""
    tag = uuid.uuid4().hex[:12]
    sku, checkout_id, order_id = f"sku-{tag}", f"co-{tag}", f"ord-{tag}"
    values = {
        "sku": sku,
        "checkout_id": checkout_id,
        "order_id": order_id,
        "email": f"buyer-{tag}@example.com",
        "paid": paid,
        "owed": owed,
        "currency": currency,
        "note": note if note is not None else f"paid {paid} {currency}, owed {owed} {currency}",
        "payment_id": f"pi_{tag}",
        "created_at": created_at or datetime.now(UTC),
    }
    with transaction(engine) as session:
        session.execute(
            text(
                "INSERT INTO product (sku, name, stock, price, currency) "
                "VALUES (:sku, 'Widget', 10, :owed, :currency)"
            ),
            values,
        )
        session.execute(
            text(
                "INSERT INTO checkout (checkout_id, email, amount, currency, state) "
                "VALUES (:checkout_id, :email, :owed, :currency, 'converted')"
            ),
            values,
        )
        session.execute(
            text(
                "INSERT INTO customer_order (order_id, checkout_id, email, state, stock_deducted, provider, "
                "payment_id, amount, currency, note, created_at, updated_at) VALUES (:order_id, "
                ":checkout_id, :email, 'needs_attention', false, 'stripe', :payment_id, :paid, :currency, "
                ":note, :created_at, :created_at)"
            ),
            values,
        )
    return order_id


def insert_unmatched(
    engine: Engine,
    *,
    amount: int = 2500,
    currency: str = "EUR",
    reason: str = "no checkout matches this payment",
    checkout_id: str | None = None,
    created_at: datetime | None = None,
) -> str:
    """An unmatched payment; answers its listed id, `unmatched-<n>`."""
    values = {
        "payment_id": f"pay_{uuid.uuid4().hex[:12]}",
        "checkout_id": checkout_id,
        "amount": amount,
        "currency": currency,
        "reason": reason,
        "created_at": created_at or datetime.now(UTC),
    }
    with transaction(engine) as session:
        row_id = session.execute(
            text(
                "INSERT INTO unmatched_payment (provider, payment_id, event_row_id, checkout_id, amount, "
                "currency, email, reason, created_at) VALUES ('razorpay', :payment_id, 1, :checkout_id, "
                ":amount, :currency, 'someone@example.com', :reason, :created_at) RETURNING id"
            ),
            values,
        ).scalar_one()
    return f"unmatched-{row_id}"
