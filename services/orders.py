"""Orders: read one by id or by checkout, and cancel one (its stock back in the same transaction)."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import Conflict, NotFound
from core.rules.orders import on_cancel
from db.queries import orders as queries
from db.queries.orders import OrderRow
from db.queries.products import change_stock, lock_products
from db.unit_of_work import UnitsOfWork

__all__ = ["OrderNotCancellable", "OrderNotFound", "OrderRow", "Orders"]


class OrderNotFound(NotFound):
    slug, title = "order-not-found", "Order not found"

    def __init__(self, what: str) -> None:
        super().__init__(f"No order for {what}: not paid yet, or unknown.")


class OrderNotCancellable(Conflict):
    slug, title = "order-not-cancellable", "Order cannot be cancelled"


@dataclass(frozen=True)
class Orders:
    units: UnitsOfWork

    def get_order(self, order_id: str) -> OrderRow:
        with self.units.begin() as uow:
            order = queries.find_order(uow.session, order_id=order_id)
        if order is None:
            raise OrderNotFound(f"id {order_id!r}")
        return order

    def get_checkout_order(self, checkout_id: str) -> OrderRow:
        """What the checkout became, once paid."""
        with self.units.begin() as uow:
            order = queries.find_order(uow.session, checkout_id=checkout_id)
        if order is None:
            raise OrderNotFound(f"checkout {checkout_id!r}")
        return order

    def cancel_order(self, order_id: str) -> OrderRow:
        """Cancel a pending or paid order; idempotent, and stock the order took comes back once,
        in the transaction that cancels it."""
        with self.units.begin() as uow:
            session = uow.session
            order = queries.find_order(session, order_id=order_id, lock=True)
            if order is None:
                raise OrderNotFound(f"id {order_id!r}")
            decision = on_cancel(order.state, order.stock_deducted)
            if not decision.allowed:
                raise OrderNotCancellable(decision.reason)
            if order.state != "cancelled":
                if decision.restock:
                    lock_products(session, list(order.lines))
                    change_stock(session, order.lines, +1)
                queries.update_order(
                    session, order_id, state="cancelled", stock_deducted=False, note="cancelled"
                )
            order = queries.find_order(session, order_id=order_id)
        assert order is not None
        return order
