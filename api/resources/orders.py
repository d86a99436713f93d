"""Orders: read one by id or by checkout, and cancel one."""

from __future__ import annotations

import falcon

from api.validation import check_id
from services.orders import Orders


class OrderResource:
    """`GET /v1/orders/{order_id}`."""

    auth = "storefront"
    rate_limit = "storefront"

    def __init__(self, orders: Orders) -> None:
        self.orders = orders

    def on_get(self, req: falcon.Request, resp: falcon.Response, order_id: str) -> None:
        check_id("order_id", order_id)
        resp.media = self.orders.get_order(order_id).as_json()


class CheckoutOrderResource:
    """`GET /v1/checkouts/{checkout_id}/order`: what the checkout became, once paid."""

    auth = "storefront"
    rate_limit = "storefront"

    def __init__(self, orders: Orders) -> None:
        self.orders = orders

    def on_get(self, req: falcon.Request, resp: falcon.Response, checkout_id: str) -> None:
        check_id("checkout_id", checkout_id)
        resp.media = self.orders.get_checkout_order(checkout_id).as_json()


class OrderCancelResource:
    """`POST /v1/orders/{order_id}/cancel`: idempotent; stock the order took comes back once."""

    auth = "storefront"
    rate_limit = "storefront"

    def __init__(self, orders: Orders) -> None:
        self.orders = orders

    def on_post(self, req: falcon.Request, resp: falcon.Response, order_id: str) -> None:
        check_id("order_id", order_id)
        resp.media = self.orders.cancel_order(order_id).as_json()
