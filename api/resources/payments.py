"""`/v1/admin/payments`: the payments a person must look at (ADMIN_API_TOKEN).

Two kinds, one list: orders in `needs_attention` (paid too little, in another currency, or paid
when the stock was gone) and payments that matched no order (no checkout, an unknown one, or a
checkout another payment already paid). The CLI and the /admin page read the same rows through
the same service (services/payments.PaymentIssues).
"""

from __future__ import annotations

from typing import Any

import falcon
from pydantic import ValidationError

from api.errors import validation_problem
from api.schemas import PaymentIssuesQueryIn
from api.validation import field_errors
from services.payments import PaymentIssues

QUERY_KEYS = ("state", "limit", "offset")


def to_query(data: dict[str, Any]) -> PaymentIssuesQueryIn:
    try:
        return PaymentIssuesQueryIn.model_validate(data)
    except ValidationError as error:
        raise validation_problem(field_errors(error)) from None


class AdminPaymentsResource:
    """GET: newest first; `state` needs_attention | unmatched (both when absent);
    `limit` (1-500, default 100) and `offset` paginate, `next_offset` names the next page."""

    auth = "admin"
    rate_limit = "admin"

    def __init__(self, issues: PaymentIssues) -> None:
        self.issues = issues

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = to_query({k: req.get_param(k) for k in QUERY_KEYS if req.get_param(k) is not None})
        # One row more than asked tells whether another page exists without counting them all.
        rows = self.issues.payments_needing_attention(query.state, query.limit + 1, query.offset)
        more = len(rows) > query.limit
        resp.media = {
            "items": rows[: query.limit],
            "next_offset": query.offset + query.limit if more else None,
        }
