"""The cart routes of the OpenAPI document (/v1/carts/...)."""

from __future__ import annotations

from typing import Any

from api.openapi_parts import json_body, operation, problems, ref
from api.schemas_carts import CartIn, CartOut

# Models whose schemas the document's components carry.
CART_MODELS = (CartIn, CartOut)

HTML = {"content": {"text/html": {"schema": {"type": "string"}}}}
TOKEN = {
    "name": "token",
    "in": "query",
    "required": True,
    "schema": {"type": "string", "maxLength": 512},
    "description": "the signed token of the email's unsubscribe link",
}


def _token_operation(summary: str, ok: str, description: str) -> dict[str, Any]:
    return {
        **operation(summary, {"200": {"description": ok, **HTML}, **problems(400, 404)}),
        "parameters": [TOKEN],
        "description": description,
    }


def cart_paths() -> dict[str, Any]:
    return {
        "/v1/carts/{cart_id}": {
            "put": operation(
                "Record a cart's items, email and marketing consent (abandoned-cart reminders)",
                {"200": json_body(ref(CartOut), "updated"), "201": json_body(ref(CartOut), "created")},
                security="storefront",
                body=ref(CartIn),
                params=("cart_id",),
            ),
            "get": operation(
                "A cart: its state (active, converted, unsubscribed) and the reminder steps queued",
                {"200": json_body(ref(CartOut), "the cart"), **problems(404, 422)},
                security="storefront",
                params=("cart_id",),
            ),
        },
        "/v1/carts/{cart_id}/unsubscribe": {
            "post": operation(
                "No more reminders for this cart; idempotent",
                {"200": json_body(ref(CartOut), "unsubscribed"), **problems(404, 422)},
                security="storefront",
                params=("cart_id",),
            ),
        },
        "/v1/carts/unsubscribe": {
            "get": _token_operation(
                "The email's unsubscribe link: a confirmation page (changes nothing)",
                "an HTML page with an Unsubscribe button posting to the same URL",
                "Public: the signed token is the authentication. See docs/carts.md.",
            ),
            "post": _token_operation(
                "Unsubscribe the cart the token names (the page's button, RFC 8058 one-click)",
                "unsubscribed (an HTML confirmation)",
                "Public: the signed token is the authentication. Mail clients post "
                "`List-Unsubscribe=One-Click` here; the body is not needed.",
            ),
        },
    }
