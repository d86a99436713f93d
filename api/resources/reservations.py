"""`/v1/checkouts/{checkout_id}/reservation`: hold stock at checkout, all or nothing."""

from __future__ import annotations

import falcon

from api.deps import Deps
from api.errors import Problem, validation_problem
from api.schemas import ReservationIn
from api.validation import check_id, parse_body
from core.rules.money import MixedCurrency, Unpriced
from core.rules.stock import merge_items
from db.engine import transaction
from db.queries import stock as queries


class Reservation:
    """POST reserves (201, or 409 with the shortages); DELETE releases now.

    Repeating the same POST answers the same reservation and holds nothing
    twice; a different item list replaces the old holds in one transaction.
    """

    auth = "storefront"
    rate_limit = "storefront"

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def on_post(self, req: falcon.Request, resp: falcon.Response, checkout_id: str) -> None:
        check_id("checkout_id", checkout_id)
        body = parse_body(req, ReservationIn, self.deps.settings.max_body_bytes)
        items = merge_items((item.sku, item.quantity) for item in body.items)
        try:
            with transaction(self.deps.engine) as session:
                outcome = queries.reserve(
                    session,
                    checkout_id=checkout_id,
                    email=str(body.email),
                    cart_id=body.cart_id,
                    items=items,
                    now=self.deps.now(),
                    ttl_seconds=self.deps.settings.reservation_ttl_seconds,
                )
                if outcome.shortages:
                    session.rollback()  # all or nothing: the old holds, if any, stay as they were
        except queries.UnknownSkus as error:
            raise validation_problem(
                [
                    {"field": f"items[{i}].sku", "message": f"unknown SKU {item.sku!r}"}
                    for i, item in enumerate(body.items)
                    if item.sku in error.skus
                ],
                "Some SKUs do not exist.",
            ) from None
        except queries.CheckoutClosed:
            raise Problem(
                409,
                "checkout-closed",
                "Checkout closed",
                "This checkout is already an order; its reservation cannot change.",
            ) from None
        except Unpriced as error:
            raise Problem(
                409,
                "product-unpriced",
                "Product has no price",
                f"Give {', '.join(error.skus)} a price (PUT /v1/products/{{sku}}) before reserving it.",
                skus=error.skus,
            ) from None
        except MixedCurrency as error:
            raise Problem(
                422,
                "mixed-currency",
                "Mixed currencies",
                "A checkout is paid in one currency; these items are priced in several.",
                errors=[{"field": "items", "message": f"priced in {' and '.join(error.currencies)}"}],
            ) from None
        if outcome.shortages:
            raise Problem(
                409,
                "insufficient-stock",
                "Insufficient stock",
                "Not enough stock for every item; nothing was reserved.",
                shortages=[vars(s) for s in outcome.shortages],
            )
        assert outcome.expires_at is not None and outcome.owed is not None
        # A repeat gets the same answer as the first call, marked as a replay.
        resp.status = falcon.HTTP_201
        if outcome.repeated:
            resp.set_header("Idempotent-Replayed", "true")
        resp.media = {
            "checkout_id": checkout_id,
            "items": [{"sku": sku, "quantity": qty} for sku, qty in outcome.items.items()],
            "expires_at": outcome.expires_at.isoformat(),
            "amount": outcome.owed.amount,
            "currency": outcome.owed.currency,
        }

    def on_delete(self, req: falcon.Request, resp: falcon.Response, checkout_id: str) -> None:
        check_id("checkout_id", checkout_id)
        try:
            with transaction(self.deps.engine) as session:
                released = queries.release(session, checkout_id, self.deps.now())
        except queries.CheckoutClosed:
            raise Problem(
                409,
                "checkout-closed",
                "Checkout closed",
                "This checkout is already an order; cancel the order instead.",
            ) from None
        if released is None:
            raise Problem(404, "checkout-not-found", "Checkout not found", f"No checkout {checkout_id!r}.")
        resp.media = {"checkout_id": checkout_id, "released_holds": released}
