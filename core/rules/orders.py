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


def items_to_buy(holds: Sequence[Hold]) -> tuple[dict[str, int], list[int]]:
    """What a paid checkout buys: its active holds, or, if cleanup already expired them all,
    the most recent set it held. Returns (items by SKU, the hold ids used)."""
    chosen = [h for h in holds if h.state == "active"]
    if not chosen:
        expired = [h for h in holds if h.state == "expired"]
        if expired:
            latest = max(h.created_at for h in expired)
            chosen = [h for h in expired if h.created_at == latest]
    items: dict[str, int] = {}
    for hold in chosen:
        items[hold.sku] = items.get(hold.sku, 0) + hold.quantity
    return dict(sorted(items.items())), [h.id for h in chosen]


SuccessAction = Literal["create_order", "already_ordered"]


def on_payment_succeeded(order_state: str | None) -> SuccessAction:
    """One order per checkout: a second success (another event id, a retry) changes nothing."""
    return "create_order" if order_state is None else "already_ordered"


def on_payment_failed(order_state: str | None) -> Literal["release", "keep_order"]:
    """A failure never undoes an order: events arrive out of order, a later success wins."""
    return "release" if order_state is None else "keep_order"


def on_refund(
    order_state: str | None, refunded: int | None, order_amount: int | None
) -> Literal["refund", "partial", "no_order", "already"]:
    """A full refund ends the order and restocks; a partial one is noted and changes no stock."""
    if order_state is None:
        return "no_order"
    if order_state in ("refunded", "cancelled"):
        return "already"
    if refunded is not None and order_amount is not None and refunded < order_amount:
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
