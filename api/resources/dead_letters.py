"""`/v1/admin/dead-letters`: find, read, replay and purge failed jobs (ADMIN_API_TOKEN)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import falcon
from pydantic import ValidationError

from api.errors import validation_problem
from api.schemas import BulkIn, DeadLetterFilterIn, ReplayIn
from api.validation import field_errors, has_body, parse_body
from db.queries.dead_letters import FILTER_KEYS, Filter
from services.dead_letter_batches import DeadLetterBatches
from services.dead_letters import DeadLetters

_OPERATOR = re.compile(r"^[\w.@:+-]{1,100}$")


def operator(req: falcon.Request) -> str:
    """Who acts, for the audit: `X-Operator` when given (e.g. an email), else the peer address."""
    name = req.get_header("X-Operator") or ""
    return f"api:{name}" if _OPERATOR.match(name) else f"api:{req.remote_addr}"


def to_filter(data: dict[str, Any]) -> Filter:
    try:
        parsed = DeadLetterFilterIn.model_validate(data)
    except ValidationError as error:
        raise validation_problem(field_errors(error)) from None
    return Filter(**parsed.model_dump())


def query_filter(req: falcon.Request) -> Filter:
    return to_filter({k: req.get_param(k) for k in FILTER_KEYS if req.get_param(k) is not None})


def jsonable(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in entry.items()}


class _Admin:
    auth = "admin"
    rate_limit = "admin"

    def __init__(self, service: DeadLetters, max_body_bytes: int) -> None:
        self.service = service
        self.max_body_bytes = max_body_bytes

    def _body(self, req: falcon.Request, model: type[Any]) -> Any:
        """An optional body: none at all means the model's defaults."""
        if not has_body(req):  # a chunked body has no Content-Length but is a body
            return model()
        return parse_body(req, model, self.max_body_bytes)


class DeadLetterListResource(_Admin):
    """GET: newest first, filtered by actor, queue, exception_type, fingerprint, state, since, until;
    `limit` (1-500) and `before` (the last id of the previous page) paginate."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        where = query_filter(req)
        limit = req.get_param_as_int("limit", min_value=1, max_value=500, default=50)
        before = req.get_param_as_int("before", min_value=1)
        page = self.service.page(where, limit=limit, before=before)
        resp.media = {"items": [jsonable(i) for i in page["items"]], "next_before": page["next_before"]}


class DeadLetterGroupsResource(_Admin):
    """GET: counts grouped by fingerprint, the largest group first (same filters as the list)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"groups": [jsonable(g) for g in self.service.groups(query_filter(req))]}


class DeadLetterResource(_Admin):
    """GET one with its traceback and replay history; DELETE purges it (audited)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, dead_letter_id: int) -> None:
        entry = self.service.show(dead_letter_id)
        entry["history"] = [jsonable(h) for h in entry["history"]]
        resp.media = jsonable(entry)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, dead_letter_id: int) -> None:
        self.service.purge(dead_letter_id, by=operator(req), reason=req.get_param("reason"))
        resp.media = {"purged": dead_letter_id}


class DeadLetterReplayResource(_Admin):
    """POST `{"reason"?, "force"?}`: 202 with the new message id; 409 if already replayed."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, dead_letter_id: int) -> None:
        body = self._body(req, ReplayIn)
        message_id = self.service.replay(
            dead_letter_id, by=operator(req), reason=body.reason, force=body.force
        )
        resp.status = falcon.HTTP_202
        resp.media = {"dead_letter_id": dead_letter_id, "message_id": message_id}


class DeadLetterBulkResource:
    """POST replay or purge for every entry matching `filter`; `dry_run` returns the count and a sample."""

    auth = "admin"
    rate_limit = "admin"

    def __init__(self, service: DeadLetterBatches, max_body_bytes: int, action: str) -> None:
        self.service = service
        self.max_body_bytes = max_body_bytes
        self.action = action

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = parse_body(req, BulkIn, self.max_body_bytes)
        where = Filter(**body.filter.model_dump())
        if where.is_empty() and not body.all:
            raise validation_problem([{"field": "filter", "message": "name a criterion, or send all: true"}])
        if self.action == "replay":
            result = self.service.replay_many(
                where,
                by=operator(req),
                reason=body.reason,
                force=body.force,
                dry_run=body.dry_run,
                limit=body.limit,
            )
        else:
            result = self.service.purge_many(
                where, by=operator(req), reason=body.reason, dry_run=body.dry_run, limit=body.limit
            )
        if "sample" in result:
            result["sample"] = [jsonable(s) for s in result["sample"]]
        resp.media = result
