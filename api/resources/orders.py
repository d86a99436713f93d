"""Orders: read one by id or by checkout, and cancel one (restock in the same transaction)."""

from __future__ import annotations

import falcon

from api.deps import Deps
from api.errors import Problem
from api.validation import check_id
from core.rules.orders import on_cancel
from db.engine import transaction
from db.queries import orders as q
from db.queries.products import change_stock, lock_products


def _not_found(what: str) -> Problem:
    return Problem(
        404, "order-not-found", "Order not found", f"No order for {what}: not paid yet, or unknown."
    )


class Order:
    """`GET /v1/orders/{order_id}`."""

    auth = "storefront"
    rate_limit = "storefront"

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, order_id: str) -> None:
        check_id("order_id", order_id)
        with transaction(self.deps.engine) as session:
            order = q.find_order(session, order_id=order_id)
        if order is None:
            raise _not_found(f"id {order_id!r}")
        resp.media = order.as_json()


class CheckoutOrder:
    """`GET /v1/checkouts/{checkout_id}/order`: what the checkout became, once paid."""

    auth = "storefront"
    rate_limit = "storefront"

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, checkout_id: str) -> None:
        check_id("checkout_id", checkout_id)
        with transaction(self.deps.engine) as session:
            order = q.find_order(session, checkout_id=checkout_id)
        if order is None:
            raise _not_found(f"checkout {checkout_id!r}")
        resp.media = order.as_json()


class OrderCancel:
    """`POST /v1/orders/{order_id}/cancel`: idempotent; stock the order took comes back once."""

    auth = "storefront"
    rate_limit = "storefront"

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def on_post(self, req: falcon.Request, resp: falcon.Response, order_id: str) -> None:
        check_id("order_id", order_id)
        with transaction(self.deps.engine) as session:
            order = q.find_order(session, order_id=order_id, lock=True)
            if order is None:
                raise _not_found(f"id {order_id!r}")
            decision = on_cancel(order.state, order.stock_deducted)
            if not decision.allowed:
                raise Problem(409, "order-not-cancellable", "Order cannot be cancelled", decision.reason)
            if order.state != "cancelled":
                if decision.restock:
                    lock_products(session, list(order.lines))
                    change_stock(session, order.lines, +1)
                q.update_order(session, order_id, state="cancelled", stock_deducted=False, note="cancelled")
            order = q.find_order(session, order_id=order_id)
        assert order is not None
        resp.media = order.as_json()
