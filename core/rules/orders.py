"""Order rules: what a payment, a failure, a refund or a cancel does to a checkout's order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class Hold:
    id: int
    sku: str
    quantity: int
    state: str
    created_at: datetime


def items_to_buy(holds: Sequence[Hold]) -> tuple[dict[str, int], list[Hold]]:
    """What a paid checkout buys: its active holds, or, when none is active (expired, released by
    DELETE, or released by an earlier failed payment), the most recent set it held. A payment
    is never dropped because its holds ended. Returns (items by SKU, the holds used)."""
    chosen = [h for h in holds if h.state == "active"]
    if not chosen:
        ended = [h for h in holds if h.state in ("expired", "released")]
        if ended:
            latest = max(h.created_at for h in ended)
            chosen = [h for h in ended if h.created_at == latest]
    items: dict[str, int] = {}
    for hold in chosen:
        items[hold.sku] = items.get(hold.sku, 0) + hold.quantity
    return dict(sorted(items.items())), chosen


SuccessAction = Literal["create_order", "same_payment", "another_payment"]


def on_payment_succeeded(
    order_payment_id: str | None, has_order: bool, payment_id: str | None
) -> SuccessAction:
    """One order per checkout. The same payment again (another event for it) changes nothing;
    a different payment for a checkout that already has an order is money taken twice: a person
    must refund it, so it is kept as unmatched, never ignored."""
    if not has_order:
        return "create_order"
    return "same_payment" if order_payment_id == payment_id else "another_payment"


def on_payment_failed(order_state: str | None) -> Literal["release", "keep_order"]:
    """A failure never undoes an order: events arrive out of order, a later success wins."""
    return "release" if order_state is None else "keep_order"


def on_refund(
    order_state: str | None, refunded_total: int, order_amount: int | None
) -> Literal["refund", "partial", "no_order", "already"]:
    """Refunds add up: when their total reaches what was paid the order ends and is restocked;
    below it the order notes the partial refund and keeps its stock."""
    if order_state is None:
        return "no_order"
    if order_state in ("refunded", "cancelled"):
        return "already"
    if order_amount is not None and refunded_total < order_amount:
        return "partial"
    return "refund"


@dataclass(frozen=True)
class CancelDecision:
    allowed: bool
    restock: bool
    reason: str = ""


def on_cancel(order_state: str, stock_deducted: bool) -> CancelDecision:
    """Paid or needs-attention orders cancel; stock comes back only if the order took it."""
    if order_state == "cancelled":
        return CancelDecision(allowed=True, restock=False, reason="already cancelled")
    if order_state == "refunded":
        return CancelDecision(allowed=False, restock=False, reason="the order was refunded")
    return CancelDecision(allowed=True, restock=stock_deducted)
