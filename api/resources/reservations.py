"""`/v1/checkouts/{checkout_id}/reservation`: hold stock at checkout, all or nothing."""

from __future__ import annotations

import falcon

from api.schemas import ReservationIn
from api.validation import check_id, parse_body
from services.reservations import Reservations


class ReservationResource:
    """POST reserves (201, or 409 with the shortages); DELETE releases now.

    Repeating the same POST answers the same reservation and holds nothing
    twice; a different item list replaces the old holds in one transaction.
    """

    auth = "storefront"
    rate_limit = "storefront"

    def __init__(self, reservations: Reservations, max_body_bytes: int) -> None:
        self.reservations = reservations
        self.max_body_bytes = max_body_bytes

    def on_post(self, req: falcon.Request, resp: falcon.Response, checkout_id: str) -> None:
        check_id("checkout_id", checkout_id)
        body = parse_body(req, ReservationIn, self.max_body_bytes)
        reserved = self.reservations.reserve(
            checkout_id,
            email=str(body.email),
            cart_id=body.cart_id,
            items=[(item.sku, item.quantity) for item in body.items],
        )
        # A repeat gets the same answer as the first call, marked as a replay.
        resp.status = falcon.HTTP_201
        if reserved.repeated:
            resp.set_header("Idempotent-Replayed", "true")
        resp.media = {
            "checkout_id": checkout_id,
            "items": [{"sku": sku, "quantity": qty} for sku, qty in reserved.items.items()],
            "expires_at": reserved.expires_at.isoformat(),
            "amount": reserved.owed.amount,
            "currency": reserved.owed.currency,
        }

    def on_delete(self, req: falcon.Request, resp: falcon.Response, checkout_id: str) -> None:
        check_id("checkout_id", checkout_id)
        released = self.reservations.release(checkout_id)
        resp.media = {"checkout_id": checkout_id, "released_holds": released}
