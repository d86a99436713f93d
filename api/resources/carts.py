"""`/v1/carts/...`: carts as the storefront reports them, and unsubscribing from their reminders.

The token routes are public: the signed token in the query string is the authentication
(core.rules.carts). `GET` shows a confirmation page (link scanners fetch GETs, so a GET never
unsubscribes); `POST` unsubscribes, which is also RFC 8058's one-click request from mail clients.
"""

from __future__ import annotations

from html import escape

import falcon

from api.schemas_carts import CartIn, CartOut
from api.validation import check_id, parse_body
from services.carts import Carts

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title></head>
<body style="font-family:Helvetica,Arial,sans-serif;max-width:480px;margin:48px auto;color:#222;">
<h1 style="font-size:20px;">{title}</h1>
{body}
</body></html>
"""


def _page(resp: falcon.Response, title: str, body: str) -> None:
    resp.content_type = falcon.MEDIA_HTML
    resp.set_header("Cache-Control", "no-store")
    resp.set_header("Referrer-Policy", "no-referrer")  # the token stays out of other sites' logs
    resp.text = PAGE.format(title=escape(title), body=body)


class CartResource:
    """PUT records the cart (201 new, 200 updated); GET answers its state and the steps sent."""

    auth = "storefront"
    rate_limit = "storefront"

    def __init__(self, carts: Carts, max_body_bytes: int) -> None:
        self.carts = carts
        self.max_body_bytes = max_body_bytes

    def on_put(self, req: falcon.Request, resp: falcon.Response, cart_id: str) -> None:
        check_id("cart_id", cart_id)
        body = parse_body(req, CartIn, self.max_body_bytes)
        put = self.carts.put_cart(
            cart_id,
            items=[(item.sku, item.quantity) for item in body.items],
            email=str(body.email) if body.email is not None else None,
            marketing_consent=body.marketing_consent,
            updated_at=body.updated_at,
        )
        resp.status = falcon.HTTP_201 if put.created else falcon.HTTP_200
        resp.media = CartOut.model_validate(put.cart).model_dump(mode="json")

    def on_get(self, req: falcon.Request, resp: falcon.Response, cart_id: str) -> None:
        check_id("cart_id", cart_id)
        resp.media = CartOut.model_validate(self.carts.get_cart(cart_id)).model_dump(mode="json")


class CartUnsubscribeResource:
    """POST: the storefront unsubscribes a cart from its reminders (idempotent)."""

    auth = "storefront"
    rate_limit = "storefront"

    def __init__(self, carts: Carts) -> None:
        self.carts = carts

    def on_post(self, req: falcon.Request, resp: falcon.Response, cart_id: str) -> None:
        check_id("cart_id", cart_id)
        resp.media = CartOut.model_validate(self.carts.unsubscribe(cart_id)).model_dump(mode="json")


class UnsubscribeLinkResource:
    """`?token=`: GET asks to confirm, POST unsubscribes (the page's button and one-click)."""

    auth = "public"  # the signed token is the authentication
    rate_limit = "public"

    def __init__(self, carts: Carts) -> None:
        self.carts = carts

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = req.get_param("token") or ""
        cart = self.carts.cart_for_token(token)
        if cart["state"] == "unsubscribed":
            _page(resp, "You are unsubscribed", "<p>You will get no more reminders about this cart.</p>")
            return
        action = f"/v1/carts/unsubscribe?{falcon.to_query_str({'token': token}, prefix=False)}"
        _page(
            resp,
            "Stop cart reminders?",
            "<p>You will get no more emails reminding you of this cart.</p>"
            f'<form method="post" action="{escape(action)}">'
            '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
            '<button type="submit">Unsubscribe</button></form>',
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        # RFC 8058: the body (List-Unsubscribe=One-Click) carries nothing we need; the token does.
        self.carts.unsubscribe_by_token(req.get_param("token"))
        _page(resp, "You are unsubscribed", "<p>You will get no more reminders about this cart.</p>")
