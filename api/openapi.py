"""The OpenAPI 3.1 document served at /openapi.json; bodies come from the pydantic schemas."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from api.schemas import (
    BulkIn,
    JobRunOut,
    OrderOut,
    ProductIn,
    ProductOut,
    ReplayIn,
    ReservationIn,
    ReservationOut,
    ShortageOut,
    WebhookAck,
)
from api.validation import ID_PATTERN

PROBLEM = {"$ref": "#/components/schemas/Problem"}
SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "storefront": [{"storefront": []}],
    "admin": [{"admin": []}],
    "cron": [{"cron": []}],
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problems(*codes: int) -> dict[str, Any]:
    text = {
        400: "malformed JSON, or (webhooks) a bad signature or payload",
        401: "missing or wrong bearer token",
        404: "not found",
        409: "conflict",
        413: "body larger than MAX_BODY_BYTES",
        415: "body is not JSON",
        422: "validation error naming each bad field",
        429: "rate limited; see Retry-After",
        503: "a dependency is unavailable",
    }
    return {
        str(code): {"description": text[code], "content": {"application/problem+json": {"schema": PROBLEM}}}
        for code in codes
    }


def _id_param(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": ID_PATTERN.pattern, "minLength": 1, "maxLength": 64},
    }


def _op(
    summary: str,
    responses: dict[str, Any],
    *,
    security: str | None = None,
    body: Any = None,
    params: tuple[str, ...] = (),
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": {**responses, **_problems(429)}}
    operation["security"] = SECURITY[security] if security else []
    if security:
        operation["responses"].update(_problems(401))
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
        operation["responses"].update(_problems(400, 413, 415, 422))
    if params:
        operation["parameters"] = [_id_param(name) for name in params]
    return operation


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
                                "properties": {"shortages": {"type": "array", "items": _ref(ShortageOut)}},
                            },
                        ]
                    }
                }
            },
        }
    }
    return {
        "/health": {"get": _op("Liveness", {"200": _json({"type": "object"}, "the process is up")})},
        "/ready": {
            "get": _op(
                "Readiness: Postgres, Redis, migrations at head",
                {"200": _json({"type": "object"}, "ready"), **_problems(503)},
            )
        },
        "/metrics": {
            "get": _op(
                "Prometheus metrics",
                {
                    "200": {
                        "description": "Prometheus text format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            )
        },
        "/openapi.json": {"get": _op("This document", {"200": _json({"type": "object"}, "OpenAPI 3.1")})},
        "/v1/products/{sku}": {
            "put": _op(
                "Create or replace a product and its stock on hand",
                {"200": _json(_ref(ProductOut), "replaced"), "201": _json(_ref(ProductOut), "created")},
                security="storefront",
                body=_ref(ProductIn),
                params=("sku",),
            ),
            "get": _op(
                "A product with reserved and available units",
                {"200": _json(_ref(ProductOut), "the product"), **_problems(404, 422)},
                security="storefront",
                params=("sku",),
            ),
        },
        "/v1/checkouts/{checkout_id}/reservation": {
            "post": _op(
                "Reserve stock for a checkout, all or nothing; idempotent for the same items",
                {"201": _json(_ref(ReservationOut), "reserved until expires_at"), **reservation_conflict},
                security="storefront",
                body=_ref(ReservationIn),
                params=("checkout_id",),
            ),
            "delete": _op(
                "Release the checkout's reservation now",
                {"200": _json({"type": "object"}, "released"), **_problems(404, 409, 422)},
                security="storefront",
                params=("checkout_id",),
            ),
        },
        "/v1/webhooks/{provider}": {
            "post": {
                **_op(
                    "A payment provider's webhook; signature-checked, stored once, processed once",
                    {
                        "200": _json(_ref(WebhookAck), "stored (or a duplicate)"),
                        **_problems(400, 404, 413, 503),
                    },
                    params=("provider",),
                ),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "description": "Providers: stripe (Stripe-Signature), paystack (x-paystack-signature), "
                "razorpay (X-Razorpay-Signature), standard (webhook-id, webhook-timestamp, "
                "webhook-signature). See docs/webhooks.md.",
            },
        },
        "/v1/orders/{order_id}": {
            "get": _op(
                "An order",
                {"200": _json(_ref(OrderOut), "the order"), **_problems(404, 422)},
                security="storefront",
                params=("order_id",),
            ),
        },
        "/v1/orders/{order_id}/cancel": {
            "post": _op(
                "Cancel a paid or needs-attention order; restocks what it took; idempotent",
                {"200": _json(_ref(OrderOut), "cancelled"), **_problems(404, 409, 422)},
                security="storefront",
                params=("order_id",),
            ),
        },
        "/v1/checkouts/{checkout_id}/order": {
            "get": _op(
                "The order a checkout became",
                {"200": _json(_ref(OrderOut), "the order"), **_problems(404, 422)},
                security="storefront",
                params=("checkout_id",),
            ),
        },
        **_admin_paths(),
        "/v1/jobs/{name}/run": {
            "post": _op(
                "Enqueue a recurring job now",
                {"202": _json(_ref(JobRunOut), "enqueued"), **_problems(404)},
                security="cron",
                params=("name",),
            ),
        },
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


FILTER_PARAMS = [
    _query("actor", {"type": "string", "maxLength": 200}, "actor name, e.g. webhooks.process"),
    _query("queue", {"type": "string", "maxLength": 100}, "queue name"),
    _query("exception_type", {"type": "string", "maxLength": 200}, "exception type, e.g. TimeoutError"),
    _query("fingerprint", {"type": "string", "maxLength": 16}, "failure group"),
    _query("state", {"type": "string", "enum": ["dead", "replayed"]}, "entry state"),
    _query("since", {"type": "string", "format": "date-time"}, "last failure at or after (with offset)"),
    _query("until", {"type": "string", "format": "date-time"}, "last failure before (with offset)"),
]
DL_ID = {
    "name": "dead_letter_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}


def _admin_paths() -> dict[str, Any]:
    obj = {"type": "object"}
    listing = _op(
        "Dead letters, newest first",
        {"200": _json(obj, "`items` and `next_before`"), **_problems(400, 422)},
        security="admin",
    )
    listing["parameters"] = [
        *FILTER_PARAMS,
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "page size (50)"),
        _query("before", {"type": "integer", "minimum": 1}, "the last id of the previous page"),
    ]
    grouped = _op(
        "Dead-letter counts by fingerprint",
        {"200": _json(obj, "`groups`"), **_problems(422)},
        security="admin",
    )
    grouped["parameters"] = FILTER_PARAMS
    one = _op(
        "One dead letter with traceback and replay history",
        {"200": _json(obj, "the entry"), **_problems(404)},
        security="admin",
    )
    purge_one = _op("Purge one (audited)", {"200": _json(obj, "purged"), **_problems(404)}, security="admin")
    replay_one = _op(
        "Replay one: the original message, a fresh retry budget",
        {"202": _json(obj, "`message_id` of the new message"), **_problems(404, 409)},
        security="admin",
        body=_ref(ReplayIn),
    )
    replay_one["requestBody"]["required"] = False
    for op in (one, purge_one, replay_one):
        op["parameters"] = [DL_ID]
    bulk = {
        action: _op(
            f"{action.capitalize()} every entry matching a filter; dry_run previews",
            {"200": _json(obj, "`matched` and `sample` (dry run) or the counts")},
            security="admin",
            body=_ref(BulkIn),
        )
        for action in ("replay", "purge")
    }
    return {
        "/v1/admin/dead-letters": {"get": listing},
        "/v1/admin/dead-letters/groups": {"get": grouped},
        "/v1/admin/dead-letters/{dead_letter_id}": {"get": one, "delete": purge_one},
        "/v1/admin/dead-letters/{dead_letter_id}/replay": {"post": replay_one},
        "/v1/admin/dead-letters/replay": {"post": bulk["replay"]},
        "/v1/admin/dead-letters/purge": {"post": bulk["purge"]},
        "/v1/admin/queues": {
            "get": _op(
                "Per queue: ready, delayed, in_flight, dead, oldest_age_seconds",
                {"200": _json(obj, "`queues`")},
                security="admin",
            )
        },
        "/v1/admin/schedules": {
            "get": _op(
                "Recurring jobs: trigger, next run, paused, recent runs",
                {"200": _json(obj, "`schedules`")},
                security="admin",
            )
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
            },
        },
    }
