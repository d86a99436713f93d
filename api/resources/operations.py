"""`/v1/admin/queues` and `/v1/admin/schedules`: what operators watch (ADMIN_API_TOKEN)."""

from __future__ import annotations

from datetime import timedelta

import falcon
from sqlalchemy import text

from api.deps import Deps
from core.catalog import JOBS, queues
from db.engine import transaction
from db.queries.schedules import recent_runs
from schedules.table import schedule_table
from worker.queue_stats import queue_stats


def dead_per_queue(deps: Deps) -> dict[str, int]:
    with transaction(deps.engine) as session:
        rows = session.execute(
            text("SELECT queue, count(*) FROM dead_letter WHERE state = 'dead' GROUP BY queue")
        )
        return {queue: int(n) for queue, n in rows}


class Queues:
    """Per queue: ready, delayed, in flight, dead (in the ledger) and the oldest waiting message's age."""

    auth = "admin"
    rate_limit = "admin"

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"queues": queue_table(self.deps)}


def queue_table(deps: Deps) -> list[dict[str, object]]:
    dead = dead_per_queue(deps)
    rows = []
    for stats in queue_stats(deps.broker, queues()):  # type: ignore[arg-type]
        row = stats.as_dict()
        row["dead"] = dead.get(stats.queue, 0)
        rows.append(row)
    return rows


class Schedules:
    """Each recurring job: its trigger, next run, whether paused, and its recent runs."""

    auth = "admin"
    rate_limit = "admin"

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"schedules": schedule_rows(self.deps)}


def schedule_rows(deps: Deps) -> list[dict[str, object]]:
    now = deps.now()
    rows = []
    with transaction(deps.engine) as session:
        for schedule in schedule_table(deps.settings):
            runs = recent_runs(session, schedule.job, limit=10)
            rows.append(
                {
                    "job": schedule.job,
                    "queue": JOBS[schedule.job].queue,
                    "trigger": f"every {schedule.every_seconds} s",
                    "next_run": (schedule.slot(now) + timedelta(seconds=schedule.every_seconds)).isoformat(),
                    "paused": False,
                    "recent_runs": [
                        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in run.items()}
                        for run in runs
                    ],
                }
            )
    return rows
