"""`/v1/admin/queues` and `/v1/admin/schedules`: what operators watch (ADMIN_API_TOKEN)."""

from __future__ import annotations

import falcon

from services.operations import Operations


class QueuesResource:
    """Per queue: ready, delayed, in flight, dead (in the ledger) and the oldest waiting message's age."""

    auth = "admin"
    rate_limit = "admin"

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"queues": self.operations.queue_table()}


class SchedulesResource:
    """Each recurring job: its trigger, next run, whether paused, and its recent runs."""

    auth = "admin"
    rate_limit = "admin"

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"schedules": self.operations.schedule_rows()}
