"""Bearer-token authentication by route class, compared in constant time."""

from __future__ import annotations

import hmac
from typing import Any

import falcon

from api.errors import Problem
from core.settings import Settings


class BearerAuth:
    """Checks `Authorization: Bearer ...` against the token of the resource's `auth` class.

    Resources declare `auth = "storefront" | "admin" | "cron"`, or None for
    public routes (health, metrics, OpenAPI) and webhooks (which verify their
    provider's signature instead).
    """

    def __init__(self, settings: Settings) -> None:
        self.tokens = {
            "storefront": settings.internal_api_secret.get_secret_value().encode(),
            "admin": settings.admin_api_token.get_secret_value().encode(),
            "cron": settings.cron_secret.get_secret_value().encode(),
        }

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        route_class = getattr(resource, "auth", None)
        if route_class is None or req.method == "OPTIONS":
            return
        header = req.get_header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        challenge = {"WWW-Authenticate": 'Bearer realm="backroom"'}
        if scheme.lower() != "bearer" or not token:
            raise Problem(
                401, "unauthorized", "Unauthorized", "Send Authorization: Bearer <token>.", headers=challenge
            )
        if not hmac.compare_digest(token.strip().encode(), self.tokens[route_class]):
            raise Problem(
                401,
                "unauthorized",
                "Unauthorized",
                "The bearer token is not valid for this route.",
                headers=challenge,
            )
        req.context.route_class = route_class
