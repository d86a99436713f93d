"""The OpenAPI 3.1 document served at /openapi.json; bodies come from the pydantic schemas."""

from __future__ import annotations

from functools import cache
from typing import Any

from api.openapi_admin import admin_paths
from api.openapi_carts import CART_MODELS, cart_paths
from api.openapi_parts import OBJECT, PROBLEM, json_body, operation, problems, ref
from api.openapi_subscriptions import SUBSCRIPTION_MODELS, subscription_paths
from api.schemas import (
    BulkIn,
    JobRunOut,
    OrderOut,
    PaymentIssuesOut,
    ProductIn,
    ProductOut,
    ReplayIn,
    ReservationIn,
    ReservationOut,
    ShortageOut,
    WebhookAck,
)


def _paths() -> dict[str, Any]:
    reservation_conflict = {
        "409": {
            "description": "not enough stock (with `shortages`), or the checkout is already an order",
            "content": {
                "application/problem+json": {
                    "schema": {
                        "allOf": [
                            PROBLEM,
                            {
                                "type": "object",
                                "properties": {"shortages": {"type": "array", "items": ref(ShortageOut)}},
                            },
                        ]
                    }
                }
            },
        }
    }
    return {
        "/health": {
            "get": operation("Liveness", {"200": json_body(OBJECT, "the process is up")}),
            "head": operation("Liveness, headers only", {"200": {"description": "the process is up"}}),
        },
        "/ready": {
            "get": {
                **operation(
                    "Readiness: Postgres, Redis, migrations at head",
                    {"200": json_body(OBJECT, "ready"), **problems(503)},
                ),
                "parameters": [
                    {
                        "name": "verbose",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["0", "1"]},
                        "description": "1: add `schedules.overdue`, the overdue recurring jobs "
                        "(they never fail readiness)",
                    }
                ],
            },
            "head": operation("Readiness, headers only", {"200": {"description": "ready"}, **problems(503)}),
        },
        "/metrics": {
            "get": {
                **operation(
                    "Prometheus metrics",
                    {
                        "200": {
                            "description": "Prometheus text format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        **problems(401),
                    },
                ),
                # Public unless METRICS_TOKEN is set; then its bearer token is required.
                "security": [{}, {"metrics": []}],
            }
        },
        "/openapi.json": {"get": operation("This document", {"200": json_body(OBJECT, "OpenAPI 3.1")})},
        "/v1/products/{sku}": {
            "put": operation(
                "Create or replace a product and its stock on hand",
                {"200": json_body(ref(ProductOut), "replaced"), "201": json_body(ref(ProductOut), "created")},
                security="storefront",
                body=ref(ProductIn),
                params=("sku",),
            ),
            "get": operation(
                "A product with reserved and available units",
                {"200": json_body(ref(ProductOut), "the product"), **problems(404, 422)},
                security="storefront",
                params=("sku",),
            ),
        },
        "/v1/checkouts/{checkout_id}/reservation": {
            "post": operation(
                "Reserve stock for a checkout, all or nothing; idempotent for the same items",
                {"201": json_body(ref(ReservationOut), "reserved until expires_at"), **reservation_conflict},
                security="storefront",
                body=ref(ReservationIn),
                params=("checkout_id",),
            ),
            "delete": operation(
                "Release the checkout's reservation now",
                {"200": json_body(OBJECT, "released"), **problems(404, 409, 422)},
                security="storefront",
                params=("checkout_id",),
            ),
        },
        "/v1/webhooks/{provider}": {
            "post": {
                **operation(
                    "A payment provider's webhook; signature-checked, stored once, processed once",
                    {
                        "200": json_body(ref(WebhookAck), "stored (or a duplicate)"),
                        **problems(400, 404, 413, 503),
                    },
                    params=("provider",),
                ),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": OBJECT}},
                },
                "description": "Providers: stripe (Stripe-Signature), paystack (x-paystack-signature), "
                "razorpay (X-Razorpay-Signature), standard (webhook-id, webhook-timestamp, "
                "webhook-signature). See docs/webhooks.md.",
            },
        },
        "/v1/orders/{order_id}": {
            "get": operation(
                "An order",
                {"200": json_body(ref(OrderOut), "the order"), **problems(404, 422)},
                security="storefront",
                params=("order_id",),
            ),
        },
        "/v1/orders/{order_id}/cancel": {
            "post": operation(
                "Cancel a paid or needs-attention order; restocks what it took; idempotent",
                {"200": json_body(ref(OrderOut), "cancelled"), **problems(404, 409, 422)},
                security="storefront",
                params=("order_id",),
            ),
        },
        "/v1/checkouts/{checkout_id}/order": {
            "get": operation(
                "The order a checkout became",
                {"200": json_body(ref(OrderOut), "the order"), **problems(404, 422)},
                security="storefront",
                params=("checkout_id",),
            ),
        },
        **cart_paths(),
        **subscription_paths(),
        **admin_paths(),
        "/v1/jobs/{name}/run": {
            "post": operation(
                "Enqueue a recurring job now",
                {"202": json_body(ref(JobRunOut), "enqueued"), **problems(404)},
                security="cron",
                params=("name",),
            ),
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in (
        ProductIn,
        ProductOut,
        ReservationIn,
        ReservationOut,
        ShortageOut,
        JobRunOut,
        OrderOut,
        WebhookAck,
        PaymentIssuesOut,
        ReplayIn,
        BulkIn,
        *CART_MODELS,
        *SUBSCRIPTION_MODELS,
    ):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    schemas["Problem"] = {
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "request_id": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    }
    bearer = {"type": "http", "scheme": "bearer"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "backroom",
            "version": "0.1.0",
            "description": "The back room of an online store. Errors are application/problem+json.",
        },
        "paths": _paths(),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "storefront": {**bearer, "description": "INTERNAL_API_SECRET"},
                "admin": {**bearer, "description": "ADMIN_API_TOKEN"},
                "cron": {**bearer, "description": "CRON_SECRET"},
                "metrics": {**bearer, "description": "METRICS_TOKEN, only when it is set"},
            },
        },
    }
