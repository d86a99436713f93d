"""What a verified payment event does, in one transaction: the webhooks family's service.

Called by the `webhooks.process` actor with an open session; returns the outbox ids
whose emails must be sent once the transaction has committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, text
from sqlmodel import Session

from core.email.render import ZERO_DECIMAL_CURRENCIES
from core.payments import PayloadError, ProviderEvent, parse_event
from core.rules import orders as rules
from core.rules.stock import find_shortages
from core.settings import Settings
from db.queries import orders as q
from db.queries import outbox, webhooks
from db.queries.products import change_stock, lock_products
from db.queries.stock import held_by_others


@dataclass
class Outcome:
    state: str = "processed"
    note: str | None = None
    order_id: str | None = None
    emails: list[int] = field(default_factory=list)


def process_event(session: Session, row_id: int, *, now: datetime, settings: Settings) -> list[int]:
    """Apply one stored event exactly once; a settled event is left alone."""
    row = webhooks.lock_event(session, row_id)
    if row is None or row.state != "received":
        return []
    try:
        event = parse_event(row.provider, row.payload, row.headers)
    except PayloadError as error:
        outcome = Outcome("ignored", f"invalid payload: {error}")
    else:
        outcome = _apply(session, event, now, settings)
    webhooks.settle_event(
        session, row_id, state=outcome.state, note=outcome.note, order_id=outcome.order_id, now=now
    )
    return outcome.emails


def _apply(session: Session, event: ProviderEvent, now: datetime, settings: Settings) -> Outcome:
    if event.kind == "other":
        return Outcome("ignored", f"{event.raw_type} is stored, not acted on")
    if event.kind == "refunded":
        return _refund(session, event)
    if event.checkout_id is None:
        return Outcome("ignored", "the payment names no checkout_id")
    checkout = q.lock_checkout(session, event.checkout_id)
    if checkout is None:
        return Outcome("ignored", f"unknown checkout {event.checkout_id!r}")
    existing = q.find_order(session, checkout_id=event.checkout_id)
    state = existing.state if existing else None
    if event.kind == "payment_failed":
        return _failed(session, event, checkout, state, now)
    if rules.on_payment_succeeded(state) == "already_ordered":
        assert existing is not None
        return Outcome("ignored", "the checkout already has an order", existing.order_id)
    return _create_order(session, event, checkout, now, settings)


def _create_order(
    session: Session, event: ProviderEvent, checkout: Any, now: datetime, settings: Settings
) -> Outcome:
    checkout_id = event.checkout_id or ""
    items, hold_ids = rules.items_to_buy(q.checkout_holds(session, checkout_id))
    if not items:
        return Outcome("ignored", f"checkout {checkout_id!r} holds nothing to buy")
    stock = lock_products(session, list(items))
    shortages = find_shortages(items, stock, held_by_others(session, list(items), checkout_id, now))
    values = {
        "provider": event.provider,
        "payment_id": event.payment_id,
        "amount": event.amount,
        "currency": event.currency,
    }
    if shortages:
        # Paid, but the holds expired and the stock went to others: never oversell; a person decides.
        order_id = q.insert_order(
            session, checkout=checkout, items=items, state="needs_attention", stock_deducted=False, **values
        )
        q.end_holds(session, hold_ids, "released", now)
        note = "; ".join(f"{s.sku}: paid {s.requested}, {s.available} available" for s in shortages)
        q.update_order(session, order_id, state="needs_attention", stock_deducted=False, note=note)
        emails = _alert(session, settings, order_id, f"Order {order_id} is paid but short of stock", note)
    else:
        change_stock(session, items, -1)
        order_id = q.insert_order(
            session, checkout=checkout, items=items, state="paid", stock_deducted=True, **values
        )
        q.end_holds(session, hold_ids, "committed", now)
        emails = _confirmation(session, order_id, checkout, items, event)
    q.set_checkout_state(session, checkout_id, "converted")
    return Outcome("processed", "order needs attention" if shortages else None, order_id, emails)


def _failed(
    session: Session, event: ProviderEvent, checkout: Any, state: str | None, now: datetime
) -> Outcome:
    if rules.on_payment_failed(state) == "keep_order":
        return Outcome("ignored", "a payment for this checkout already succeeded; the order stands")
    _, hold_ids = rules.items_to_buy(q.checkout_holds(session, event.checkout_id or ""))
    q.end_holds(session, hold_ids, "released", now)
    q.set_checkout_state(session, event.checkout_id or "", "released")
    email_id = outbox.add_email(
        session,
        key=f"payment-failed/{event.provider}/{event.event_id}",
        template="payment_failed",
        to=event.email or checkout.email,
        context={"checkout_id": event.checkout_id, "reason": "Your payment did not go through."},
    )
    return Outcome("processed", "reservation released", None, [email_id] if email_id else [])


def _refund(session: Session, event: ProviderEvent) -> Outcome:
    order = None
    if event.payment_id:
        order = q.find_order(session, payment_id=event.payment_id, lock=True)
    if order is None and event.checkout_id:
        order = q.find_order(session, checkout_id=event.checkout_id, lock=True)
    action = rules.on_refund(order.state if order else None, event.amount, order.amount if order else None)
    if order is None or action == "no_order":
        return Outcome("ignored", "no order for this payment")
    if action == "already":
        return Outcome("ignored", f"order already {order.state}", order.order_id)
    if action == "partial":
        note = f"partial refund of {event.amount} {event.currency}; stock unchanged"
        q.update_order(
            session, order.order_id, state=order.state, stock_deducted=order.stock_deducted, note=note
        )
        return Outcome("processed", note, order.order_id)
    if order.stock_deducted:
        lock_products(session, list(order.lines))
        change_stock(session, order.lines, +1)
    q.update_order(session, order.order_id, state="refunded", stock_deducted=False, note="refunded")
    return Outcome("processed", "refunded and restocked", order.order_id)


def _confirmation(
    session: Session, order_id: str, checkout: Any, items: dict[str, int], event: ProviderEvent
) -> list[int]:
    names = dict(
        session.execute(
            text("SELECT sku, name FROM product WHERE sku IN :skus").bindparams(
                bindparam("skus", expanding=True)
            ),
            {"skus": list(items)},
        ).all()
    )
    currency = (event.currency or "USD").upper()
    scale = 1 if currency in ZERO_DECIMAL_CURRENCIES else 100
    context = {
        "order_id": order_id,
        "email": checkout.email,
        "currency": currency,
        "total": str(Decimal(event.amount or 0) / scale),
        "lines": [{"sku": sku, "name": names.get(sku, sku), "quantity": qty} for sku, qty in items.items()],
    }
    email_id = outbox.add_email(
        session,
        key=f"order-confirmation/{order_id}",
        template="order_confirmation",
        to=context["email"],
        context=context,
    )
    return [email_id] if email_id else []


def _alert(session: Session, settings: Settings, order_id: str, subject: str, message: str) -> list[int]:
    if not settings.alert_email:
        return []
    email_id = outbox.add_email(
        session,
        key=f"operator-alert/{order_id}",
        template="operator_alert",
        to=settings.alert_email,
        context={"subject": subject, "message": message, "details": {"order_id": order_id}},
    )
    return [email_id] if email_id else []
