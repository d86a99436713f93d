"""`/v1/subscriptions/...` (the storefront's premium subscriptions) and the operators'
`/v1/admin/subscriptions`: thin adapters over services/subscriptions.Subscriptions, whose docstring
holds the rules of an update and a cancel."""

from __future__ import annotations

from typing import Any

import falcon
from pydantic import ValidationError

from api.errors import validation_problem
from api.schemas_subscriptions import SubscriptionIn, SubscriptionIssuesQueryIn, SubscriptionOut
from api.validation import check_id, field_errors, parse_body
from services.subscription_issues import SubscriptionIssues
from services.subscriptions import Subscriptions, Terms

QUERY_KEYS = ("state", "limit", "offset")


def _out(view: dict[str, Any]) -> dict[str, Any]:
    return SubscriptionOut.model_validate(view).model_dump(mode="json")


class SubscriptionResource:
    """PUT records the subscription (201 new, 200 updated); GET answers it with its charges."""

    auth = "storefront"
    rate_limit = "storefront"

    def __init__(self, subscriptions: Subscriptions, max_body_bytes: int) -> None:
        self.subscriptions = subscriptions
        self.max_body_bytes = max_body_bytes

    def on_put(self, req: falcon.Request, resp: falcon.Response, subscription_id: str) -> None:
        check_id("subscription_id", subscription_id)
        body = parse_body(req, SubscriptionIn, self.max_body_bytes)
        put = self.subscriptions.put(subscription_id, Terms(**body.model_dump()))
        resp.status = falcon.HTTP_201 if put.created else falcon.HTTP_200
        resp.media = _out(put.subscription)

    def on_get(self, req: falcon.Request, resp: falcon.Response, subscription_id: str) -> None:
        check_id("subscription_id", subscription_id)
        resp.media = _out(self.subscriptions.get(subscription_id))


class SubscriptionCancelResource:
    """POST: ends at the period's end if active, now if past due or lapsed; idempotent."""

    auth = "storefront"
    rate_limit = "storefront"

    def __init__(self, subscriptions: Subscriptions) -> None:
        self.subscriptions = subscriptions

    def on_post(self, req: falcon.Request, resp: falcon.Response, subscription_id: str) -> None:
        check_id("subscription_id", subscription_id)
        resp.media = _out(self.subscriptions.cancel(subscription_id))


class AdminSubscriptionsResource:
    """GET: past-due and lapsed subscriptions, the longest unpaid first; `state` picks one kind;
    `limit` (1-500, default 100) and `offset` paginate, `next_offset` names the next page."""

    auth = "admin"
    rate_limit = "admin"

    def __init__(self, subscriptions: SubscriptionIssues) -> None:
        self.subscriptions = subscriptions

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = {k: req.get_param(k) for k in QUERY_KEYS if req.get_param(k) is not None}
        try:
            query = SubscriptionIssuesQueryIn.model_validate(data)
        except ValidationError as error:
            raise validation_problem(field_errors(error)) from None
        # One row more than asked tells whether another page exists without counting them all.
        rows = self.subscriptions.needing_a_person(query.state, query.limit + 1, query.offset)
        more = len(rows) > query.limit
        resp.media = {
            "items": rows[: query.limit],
            "next_offset": query.offset + query.limit if more else None,
        }


class AdminSubscriptionRetryResource:
    """POST: try a past-due or lapsed subscription's card again now (409 for the others)."""

    auth = "admin"
    rate_limit = "admin"

    def __init__(self, subscriptions: SubscriptionIssues) -> None:
        self.subscriptions = subscriptions

    def on_post(self, req: falcon.Request, resp: falcon.Response, subscription_id: str) -> None:
        check_id("subscription_id", subscription_id)
        resp.media = _out(self.subscriptions.retry_now(subscription_id))
