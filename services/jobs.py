"""Running a recurring job now, by name (`POST /v1/jobs/{name}/run`, `backroom jobs run`)."""

from __future__ import annotations

from dataclasses import dataclass

from core.catalog import JOBS
from core.errors import NotFound
from core.messages import Outgoing, Send


class JobNotFound(NotFound):
    slug, title = "job-not-found", "Job not found"

    def __init__(self, name: str) -> None:
        super().__init__(f"No recurring job {name!r}; known: {', '.join(sorted(JOBS))}.")
        self.name = name


@dataclass(frozen=True)
class Jobs:
    send: Send  # no transaction decides it: the message goes at once

    def run_job(self, name: str) -> str:
        """Enqueue the named recurring job: the message id."""
        job = JOBS.get(name)
        if job is None:
            raise JobNotFound(name)
        return self.send(Outgoing(job.actor_name, job.queue))
