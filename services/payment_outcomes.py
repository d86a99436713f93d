"""What a payment does to its checkout, in the caller's transaction: a paid order, an order that
needs attention, a released reservation, or an unmatched payment (services/payments.py decides
which). Each returns the event's `Outcome`, with the outbox ids of the emails it decided.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core.payments import ProviderEvent
from core.rules import orders as rules
from core.rules.money import describe, shortfall
from core.settings import Settings
from db.queries import orders as q
from db.queries import payments, reserved
from db.queries.carts import mark_converted
from db.queries.products import lock_products
from db.queries.stock import end_holds as end_checkout_holds
from services import payment_notices as notices
from services.refunds import apply_refunds
from services.reservation_shortages import take_paid_stock


@dataclass
class Outcome:
    state: str = "processed"
    note: str | None = None
    order_id: str | None = None
    emails: list[int] = field(default_factory=list)


def create_order(
    session: Session, row_id: int, event: ProviderEvent, checkout: Any, now: datetime, settings: Settings
) -> Outcome:
    checkout_id = checkout.checkout_id
    items, holds = rules.items_to_buy(q.checkout_holds(session, checkout_id))
    if not items:
        return keep_unmatched(
            session, row_id, event, settings, f"checkout {checkout_id!r} never held anything"
        )
    values: dict[str, Any] = {"provider": event.provider, "payment_id": event.payment_id}
    values |= {"amount": event.amount, "currency": event.currency}
    # Underpaid or another currency: no stock is taken and a person decides.
    problem = shortfall(event.amount, event.currency, checkout.amount, checkout.currency)
    # Its live holds end now (holds before product rows, as everywhere) and leave the counters.
    ended = end_checkout_holds(session, checkout_id, now, "released")
    lock_products(session, sorted(items.keys() | ended.keys()))  # in SKU order, for both changes
    reserved.change(session, {sku: -units for sku, units in ended.items()})
    if problem is None:
        # Expired or released holds are re-reserved by the checkout's rule.
        problem = take_paid_stock(session, items, now)
    if problem is not None:
        order_id = q.insert_order(
            session,
            checkout=checkout,
            items=items,
            state="needs_attention",
            stock_deducted=False,
            note=problem,
            **values,
        )
        subject = f"Order {order_id} is paid but needs a person"
        details = {"order_id": order_id, "checkout_id": checkout_id, "payment_id": event.payment_id}
        emails = notices.operator_alert(session, settings, order_id, subject, problem, details)
    else:
        order_id = q.insert_order(
            session, checkout=checkout, items=items, state="paid", stock_deducted=True, note=None, **values
        )
        q.end_holds(session, [h.id for h in holds], "committed", now)
        emails = notices.confirmation(session, order_id, checkout, items, event)
        if checkout.cart_id:  # a paid order: its cart gets no more reminders
            mark_converted(session, checkout.cart_id, now)
    q.set_checkout_state(session, checkout_id, "converted")
    order = q.find_order(session, order_id=order_id, lock=True)
    assert order is not None
    refund_note = apply_refunds(session, event.provider, order)  # refunds that came first
    note = "order needs attention" if problem else None
    return Outcome("processed", refund_note or note, order_id, emails)


def release_failed(
    session: Session, event: ProviderEvent, checkout: Any, existing: q.OrderRow | None, now: datetime
) -> Outcome:
    if rules.on_payment_failed(existing.state if existing else None) == "keep_order":
        return Outcome("ignored", "a payment for this checkout already succeeded; the order stands")
    ended = end_checkout_holds(session, checkout.checkout_id, now, "released")
    reserved.change(session, {sku: -units for sku, units in ended.items()})
    q.set_checkout_state(session, checkout.checkout_id, "released")
    emails = notices.payment_failed(session, event, checkout)
    return Outcome("processed", "reservation released", None, emails)


def keep_unmatched(
    session: Session, row_id: int, event: ProviderEvent, settings: Settings, reason: str
) -> Outcome:
    """Keep a successful payment that made no order, and tell an operator once."""
    kept = payments.add_unmatched(
        session,
        event_row_id=row_id,
        provider=event.provider,
        payment_id=event.payment_id or event.event_id,
        checkout_id=event.checkout_id,
        amount=event.amount,
        currency=event.currency,
        email=event.email,
        reason=reason,
    )
    if kept is None:
        return Outcome("ignored", "this payment is already kept as unmatched")
    message = f"{describe(event.amount, event.currency)} from {event.provider}: {reason}"
    details = {"payment_id": event.payment_id, "checkout_id": event.checkout_id, "event_row_id": row_id}
    key = f"unmatched/{event.provider}/{event.payment_id or event.event_id}"
    emails = notices.operator_alert(session, settings, key, "A payment matched no order", message, details)
    return Outcome("processed", f"unmatched payment: {reason}", None, emails)
