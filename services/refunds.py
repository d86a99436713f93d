"""Refunds: each kept once by its provider refund id; they add up to end and restock an order.

A refund that arrives before its payment's order is kept unlinked and applied by
`apply_refunds` when the order is created.
"""

from __future__ import annotations

from sqlmodel import Session

from core.payments import ProviderEvent
from core.rules import orders as rules
from core.rules.money import describe, refunded_total
from db.queries import orders as q
from db.queries import payments
from db.queries.products import change_stock, lock_products

# Stripe's charge.refunded reports the charge's running total; the others each refund's amount.
CUMULATIVE_PROVIDERS = frozenset({"stripe"})


def record_refund(session: Session, event: ProviderEvent) -> tuple[str, str | None, str | None]:
    """(event state, note, order id) for a refund event."""
    payment_id = event.payment_id or ""
    added = payments.add_refund(
        session,
        provider=event.provider,
        refund_id=event.refund_id or event.event_id,
        payment_id=payment_id,
        amount=event.amount or 0,
        cumulative=event.provider in CUMULATIVE_PROVIDERS,
        currency=event.currency,
    )
    if not added:
        return "ignored", "this refund was already recorded", None
    order = q.find_order(session, payment_id=payment_id, lock=True)
    if order is None:
        return "processed", "refund kept: no order for this payment yet", None
    note = apply_refunds(session, event.provider, order)
    return "processed", note, order.order_id


def apply_refunds(session: Session, provider: str, order: q.OrderRow) -> str | None:
    """Apply every refund recorded for the order's payment; the order row must be locked."""
    if order.payment_id is None:
        return None
    payments.link_refunds(session, provider, order.payment_id, order.order_id)
    reports = payments.refunds_of(session, provider, order.payment_id)
    if not reports:
        return None
    total = refunded_total(reports)
    action = rules.on_refund(order.state, total, order.amount)
    if action in ("already", "no_order"):
        return f"order already {order.state}"
    if action == "partial":
        paid = describe(order.amount, order.currency)
        note = f"refunded {describe(total, order.currency)} of {paid}; stock unchanged"
        if order.state == "needs_attention" and order.note:  # keep why it stopped in view
            note = f"{order.note.split('; refunded ')[0]}; {note}"
        q.update_order(
            session, order.order_id, state=order.state, stock_deducted=order.stock_deducted, note=note
        )
        return note
    if order.stock_deducted:
        lock_products(session, list(order.lines))
        change_stock(session, order.lines, +1)
    q.update_order(session, order.order_id, state="refunded", stock_deducted=False, note="refunded")
    return "refunded and restocked" if order.stock_deducted else "refunded"
