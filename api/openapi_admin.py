"""The operator routes of the OpenAPI document (/v1/admin/...)."""

from __future__ import annotations

from typing import Any

from api.openapi_parts import OBJECT, json_body, operation, problems, ref
from api.schemas import BulkIn, PaymentIssuesOut, ReplayIn, ScheduleActionIn


def query_param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


FILTER_PARAMS = [
    query_param("actor", {"type": "string", "maxLength": 200}, "actor name, e.g. webhooks.process"),
    query_param("queue", {"type": "string", "maxLength": 100}, "queue name"),
    query_param("exception_type", {"type": "string", "maxLength": 200}, "exception type, e.g. TimeoutError"),
    query_param("fingerprint", {"type": "string", "maxLength": 16}, "failure group"),
    query_param("state", {"type": "string", "enum": ["dead", "replayed"]}, "entry state"),
    query_param("since", {"type": "string", "format": "date-time"}, "last failure at or after (with offset)"),
    query_param("until", {"type": "string", "format": "date-time"}, "last failure before (with offset)"),
]
DL_ID = {
    "name": "dead_letter_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}

TIME = {"type": "string", "format": "date-time"}
MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
MAYBE_TEXT = {"type": ["string", "null"]}
SCHEDULE_RUN = {
    "type": "object",
    "description": "One slot of the job (or a manual run), newest first",
    "required": ["scheduled_for", "state", "message_id", "finished_at", "duration_ms"],
    "properties": {
        "scheduled_for": TIME,
        "fired_at": MAYBE_TIME,
        "fired_by": {"type": "string", "description": "the scheduler, or `manual:<operator>`"},
        "message_id": MAYBE_TEXT,
        "state": {
            "type": "string",
            "enum": ["not_sent", "sent", "running", "succeeded", "failed", "skipped"],
        },
        "started_at": MAYBE_TIME,
        "finished_at": MAYBE_TIME,
        "duration_ms": {"type": ["integer", "null"]},
        "dead_letter_id": {"type": ["integer", "null"], "description": "when `failed`: the dead letter"},
    },
}
SCHEDULE = {
    "type": "object",
    "description": "A recurring job: trigger, pause, next run, last success, overdue, recent runs",
    "required": [
        "job",
        "trigger",
        "timezone",
        "paused",
        "paused_by",
        "paused_reason",
        "paused_at",
        "next_run",
        "last_success",
        "overdue",
        "recent_runs",
    ],
    "properties": {
        "job": {"type": "string"},
        "queue": {"type": "string"},
        "trigger": {"type": "string", "description": "e.g. `every 5m` or `cron 0 3 * * * (UTC)`"},
        "timezone": {"type": "string", "description": "SCHEDULE_TIMEZONE, e.g. UTC"},
        "misfire": {"type": "string", "enum": ["skip", "fire_once", "catch_up"]},
        "grace_seconds": {"type": "integer"},
        "paused": {"type": "boolean"},
        "paused_by": MAYBE_TEXT,
        "paused_reason": MAYBE_TEXT,
        "paused_at": MAYBE_TIME,
        "next_run": {**MAYBE_TIME, "description": "null while paused"},
        "last_success": {**MAYBE_TIME, "description": "when its last successful run finished"},
        "overdue": {"type": "boolean", "description": "no success within its period plus grace, not paused"},
        "overdue_since": MAYBE_TIME,
        "recent_runs": {"type": "array", "items": SCHEDULE_RUN},
    },
}
LOW_STOCK = {
    "type": "object",
    "required": ["items"],
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["sku", "name", "stock", "available", "threshold", "out_of_stock", "alerted_at"],
                "properties": {
                    "sku": {"type": "string"},
                    "name": {"type": "string"},
                    "stock": {"type": "integer", "description": "on hand"},
                    "available": {"type": "integer", "description": "stock minus live holds"},
                    "threshold": {"type": "integer", "description": "low_stock_threshold (> 0)"},
                    "out_of_stock": {"type": "boolean"},
                    "alerted_at": {
                        **MAYBE_TIME,
                        "description": "when this crossing was alerted; null until the job's next run",
                    },
                },
            },
        }
    },
}
JOB = {
    "name": "job",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$"},
    "description": "the recurring job, e.g. stock-cleanup",
}


def schedule_action(action: str, summary: str) -> dict[str, Any]:
    body = ScheduleActionIn.model_json_schema()
    body.pop("title", None)
    step = operation(
        summary,
        {"200": json_body(SCHEDULE, "the job's row, as GET /v1/admin/schedules shows it"), **problems(404)},
        security="admin",
        body=body,
    )
    step["requestBody"]["required"] = False
    step["parameters"] = [
        JOB,
        {
            "name": "X-Operator",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "pattern": r"^[A-Za-z0-9_.@:+-]{1,100}$"},
            "description": "who acts, for the audit (else the client address)",
        },
    ]
    step["description"] = f"Audited ({action}) with the operator and the reason."
    return step


def admin_paths() -> dict[str, Any]:
    listing = operation(
        "Dead letters, newest first",
        {"200": json_body(OBJECT, "`items` and `next_before`"), **problems(400, 422)},
        security="admin",
    )
    listing["parameters"] = [
        *FILTER_PARAMS,
        query_param("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "page size (50)"),
        query_param("before", {"type": "integer", "minimum": 1}, "the last id of the previous page"),
    ]
    grouped = operation(
        "Dead-letter counts by fingerprint",
        {"200": json_body(OBJECT, "`groups`"), **problems(422)},
        security="admin",
    )
    grouped["parameters"] = FILTER_PARAMS
    one = operation(
        "One dead letter with traceback and replay history",
        {"200": json_body(OBJECT, "the entry"), **problems(404)},
        security="admin",
    )
    purge_one = operation(
        "Purge one (audited)", {"200": json_body(OBJECT, "purged"), **problems(404)}, security="admin"
    )
    replay_one = operation(
        "Replay one: the original message, a fresh retry budget",
        {"202": json_body(OBJECT, "`message_id` of the new message"), **problems(404, 409)},
        security="admin",
        body=ref(ReplayIn),
    )
    replay_one["requestBody"]["required"] = False
    for op in (one, purge_one, replay_one):
        op["parameters"] = [DL_ID]
    bulk = {
        action: operation(
            f"{action.capitalize()} every entry matching a filter; dry_run previews",
            {"200": json_body(OBJECT, "`matched` and `sample` (dry run) or the counts")},
            security="admin",
            body=ref(BulkIn),
        )
        for action in ("replay", "purge")
    }
    payments = operation(
        "Payments that need a person: what was paid, what was owed, why it stopped; newest first",
        {"200": json_body(ref(PaymentIssuesOut), "`items` and `next_offset`"), **problems(422)},
        security="admin",
    )
    payments["parameters"] = [
        query_param("state", {"type": "string", "enum": ["needs_attention", "unmatched"]}, "both if absent"),
        query_param("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "page size (100)"),
        query_param("offset", {"type": "integer", "minimum": 0, "maximum": 1_000_000}, "rows to skip (0)"),
    ]
    return {
        "/v1/admin/payments": {"get": payments},
        "/v1/admin/low-stock": {
            "get": operation(
                "Products at or below their low-stock threshold now, out of stock first, "
                "with when each was alerted",
                {"200": json_body(LOW_STOCK, "`items`")},
                security="admin",
            )
        },
        "/v1/admin/dead-letters": {"get": listing},
        "/v1/admin/dead-letters/groups": {"get": grouped},
        "/v1/admin/dead-letters/{dead_letter_id}": {"get": one, "delete": purge_one},
        "/v1/admin/dead-letters/{dead_letter_id}/replay": {"post": replay_one},
        "/v1/admin/dead-letters/replay": {"post": bulk["replay"]},
        "/v1/admin/dead-letters/purge": {"post": bulk["purge"]},
        "/v1/admin/queues": {
            "get": operation(
                "Per queue: ready, delayed, in_flight, dead, oldest_age_seconds",
                {"200": json_body(OBJECT, "`queues`")},
                security="admin",
            )
        },
        "/v1/admin/schedules": {
            "get": operation(
                "Recurring jobs: trigger, time zone, paused (by, why, since), next run, last success, "
                "overdue, recent runs",
                {
                    "200": json_body(
                        {
                            "type": "object",
                            "required": ["schedules"],
                            "properties": {"schedules": {"type": "array", "items": SCHEDULE}},
                        },
                        "`schedules`",
                    )
                },
                security="admin",
            )
        },
        "/v1/admin/schedules/{job}/pause": {
            "post": schedule_action(
                "pause", "Pause a recurring job for every scheduler; pausing a paused job changes nothing"
            )
        },
        "/v1/admin/schedules/{job}/resume": {
            "post": schedule_action("resume", "Resume a paused job; missed slots follow its misfire policy")
        },
    }
