"""`POST /v1/jobs/{name}/run`: enqueue a recurring job now (CRON_SECRET)."""

from __future__ import annotations

import falcon

from api.deps import Deps
from api.errors import Problem
from core.catalog import JOBS
from worker.messages import enqueue


class JobRun:
    """202 with the message id; 404 for a name that is not a recurring job."""

    auth = "cron"
    rate_limit = "cron"

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        if name not in JOBS:
            raise Problem(
                404,
                "job-not-found",
                "Job not found",
                f"No recurring job {name!r}; known: {', '.join(sorted(JOBS))}.",
            )
        message = enqueue(self.deps.broker, name)
        resp.status = falcon.HTTP_202
        resp.media = {"job": name, "message_id": message.message_id, "queue": JOBS[name].queue}
