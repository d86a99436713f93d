"""`POST /v1/jobs/{name}/run`: enqueue a recurring job now (CRON_SECRET)."""

from __future__ import annotations

import falcon

from core.catalog import JOBS
from services.jobs import Jobs


class JobRunResource:
    """202 with the message id; 404 for a name that is not a recurring job."""

    auth = "cron"
    rate_limit = "cron"

    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        message_id = self.jobs.run_job(name)
        resp.status = falcon.HTTP_202
        resp.media = {"job": name, "message_id": message_id, "queue": JOBS[name].queue}
