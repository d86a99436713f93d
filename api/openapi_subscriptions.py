"""The subscription routes of the OpenAPI document: the storefront's /v1/subscriptions/... and the
operators' /v1/admin/subscriptions."""

from __future__ import annotations

from typing import Any

from api.openapi_parts import json_body, operation, problems, ref
from api.schemas_subscriptions import SubscriptionIn, SubscriptionIssuesOut, SubscriptionOut

# Models whose schemas the document's components carry.
SUBSCRIPTION_MODELS = (SubscriptionIn, SubscriptionOut, SubscriptionIssuesOut)

UPDATE_RULES = (
    "Every field, every time. On an update: the fields are replaced (a charge already started keeps "
    "its amount); `current_period_end` is applied only when later than the stored one; a new "
    "`payment_method_ref` on a past-due subscription is tried at once. 409 `subscription-ended` for "
    "a cancelled subscription (a new one needs a new id); a lapsed one stays lapsed. See "
    "docs/subscriptions.md."
)


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def subscription_paths() -> dict[str, Any]:
    view = ref(SubscriptionOut)
    put = operation(
        "Record a premium subscription as the storefront sold it",
        {"200": json_body(view, "updated"), "201": json_body(view, "created"), **problems(409)},
        security="storefront",
        body=ref(SubscriptionIn),
        params=("subscription_id",),
    )
    put["description"] = UPDATE_RULES
    listing = operation(
        "Past-due and lapsed subscriptions, the longest unpaid first, with the last decline",
        {"200": json_body(ref(SubscriptionIssuesOut), "`items` and `next_offset`"), **problems(422)},
        security="admin",
    )
    listing["parameters"] = [
        _query("state", {"type": "string", "enum": ["past_due", "lapsed"]}, "both if absent"),
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "page size (100)"),
        _query("offset", {"type": "integer", "minimum": 0, "maximum": 1_000_000}, "rows to skip (0)"),
    ]
    return {
        "/v1/subscriptions/{subscription_id}": {
            "put": put,
            "get": operation(
                "A subscription: state, next attempt, dunning step, charges and their attempts",
                {"200": json_body(view, "the subscription"), **problems(404, 422)},
                security="storefront",
                params=("subscription_id",),
            ),
        },
        "/v1/subscriptions/{subscription_id}/cancel": {
            "post": operation(
                "Cancel: an active subscription ends at its period's end, a past-due or lapsed one now "
                "(dunning stops); idempotent",
                {"200": json_body(view, "the subscription"), **problems(404, 422)},
                security="storefront",
                params=("subscription_id",),
            ),
        },
        "/v1/admin/subscriptions": {"get": listing},
        "/v1/admin/subscriptions/{subscription_id}/retry": {
            "post": operation(
                "Try a past-due or lapsed subscription's card again now (a lapsed one becomes past due "
                "for one more attempt); 409 `subscription-not-retryable` otherwise",
                {"200": json_body(view, "the subscription"), **problems(404, 409, 422)},
                security="admin",
                params=("subscription_id",),
            ),
        },
    }
