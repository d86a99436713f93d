"""`POST /v1/admin/schedules/{job}/pause` and `/resume` (ADMIN_API_TOKEN): operators steer a
recurring job; the service audits who (`X-Operator`) and why (`reason`)."""

from __future__ import annotations

from typing import Any

import falcon

from api.resources.dead_letters import operator
from api.schemas import ScheduleActionIn
from api.validation import has_body, parse_body
from services.operations import Operations
from services.schedule_controls import ScheduleControls
from services.schedule_watch import find


class ScheduleActionResource:
    """POST with an optional body `{"reason"?}`: 200 with the job's row as GET
    /v1/admin/schedules shows it; 404 `schedule-not-found`. Pausing a paused job (or resuming a
    running one) changes nothing and answers the row."""

    auth = "admin"
    rate_limit = "admin"

    def __init__(
        self, controls: ScheduleControls, operations: Operations, max_body_bytes: int, action: str
    ) -> None:
        assert action in ("pause", "resume")
        self.controls = controls
        self.operations = operations
        self.max_body_bytes = max_body_bytes
        self.action = action

    def on_post(self, req: falcon.Request, resp: falcon.Response, job: str) -> None:
        find(self.controls.table, job)  # an unknown job is a 404 whatever the body
        body = parse_body(req, ScheduleActionIn, self.max_body_bytes) if has_body(req) else ScheduleActionIn()
        act = self.controls.pause if self.action == "pause" else self.controls.resume
        act(job, by=operator(req), reason=body.reason)
        resp.media = schedule_row(self.operations, job)


def schedule_row(operations: Operations, job: str) -> dict[str, Any]:
    (row,) = (row for row in operations.schedule_rows() if row["job"] == job)
    return row
