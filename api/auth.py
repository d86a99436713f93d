"""Authentication declared by every route, bearer tokens compared in constant time."""

from __future__ import annotations

import hmac
from typing import Any

import falcon

from api.errors import Problem
from core.logging import get_logger
from core.settings import Settings

log = get_logger("backroom.api.auth")

# Routes checked here against a bearer token ("metrics" only when METRICS_TOKEN is set).
BEARER = ("storefront", "admin", "cron", "metrics")
# Routes that authenticate otherwise, or not at all, and say so.
PUBLIC = "public"  # health, readiness, the OpenAPI document, the /admin login form
WEBHOOK_SIGNATURE = "webhook-signature"  # the resource verifies the provider's signature
ADMIN_SESSION = "admin-session"  # the /admin pages check their own session cookie
DECISIONS = frozenset((*BEARER, PUBLIC, WEBHOOK_SIGNATURE, ADMIN_SESSION))


def check_declared(path: str, resource: object) -> None:
    """Refuse to start with a route that makes no auth decision: forgetting must not mean public."""
    decision = getattr(resource, "auth", None)
    if decision not in DECISIONS:
        raise RuntimeError(
            f"route {path} ({type(resource).__name__}) declares no authentication: set its `auth` "
            f"to one of {', '.join(sorted(DECISIONS))} (got {decision!r})"
        )


class BearerAuth:
    """Checks `Authorization: Bearer ...` against the token of the resource's `auth` class.

    Resources declare `auth` as one of DECISIONS. A resource that reaches a request without a
    valid declaration (added after create_app's check) is refused with a 500, never served.
    """

    def __init__(self, settings: Settings) -> None:
        metrics = settings.metrics_token
        self.tokens: dict[str, bytes | None] = {
            "storefront": settings.internal_api_secret.get_secret_value().encode(),
            "admin": settings.admin_api_token.get_secret_value().encode(),
            "cron": settings.cron_secret.get_secret_value().encode(),
            "metrics": metrics.get_secret_value().encode() if metrics else None,
        }

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        if resource is None:  # no route: the 404 follows
            return
        decision = getattr(resource, "auth", None)
        if decision not in DECISIONS:
            log.error("auth.undeclared_route", route=req.uri_template, resource=type(resource).__name__)
            raise Problem(500, "internal-error", "Internal server error", "An unexpected error occurred.")
        expected = self.tokens.get(decision)
        if expected is None or req.method == "OPTIONS":
            return
        header = req.get_header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        challenge = {"WWW-Authenticate": 'Bearer realm="backroom"'}
        if scheme.lower() != "bearer" or not token:
            raise Problem(
                401, "unauthorized", "Unauthorized", "Send Authorization: Bearer <token>.", headers=challenge
            )
        if not hmac.compare_digest(token.strip().encode(), expected):
            raise Problem(
                401,
                "unauthorized",
                "Unauthorized",
                "The bearer token is not valid for this route.",
                headers=challenge,
            )
        req.context.route_class = decision
