"""What operators watch: every queue's depth with its dead letters, and every recurring job's
schedule with its recent runs (the API, the operator page and `backroom queues` show these)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import dramatiq

from core.catalog import JOBS, queues
from core.schedule_table import schedule_table
from core.settings import Settings
from db.queries.dead_letters import dead_per_queue
from db.queries.schedules import recent_runs
from db.unit_of_work import UnitsOfWork
from worker.queue_stats import queue_stats


@dataclass(frozen=True)
class Operations:
    units: UnitsOfWork
    broker: dramatiq.Broker  # a RedisBroker: queue depth is read from its keys
    settings: Settings
    now: Callable[[], datetime]

    def queue_table(self) -> list[dict[str, object]]:
        """Per queue: ready, delayed, in flight, dead in Redis, dead in the ledger, the oldest age."""
        with self.units.begin() as uow:
            dead = dead_per_queue(uow.session)
        rows = []
        for stats in queue_stats(self.broker, queues()):  # type: ignore[arg-type]
            row = stats.as_dict()
            row["dead"] = dead.get(stats.queue, 0)
            rows.append(row)
        return rows

    def schedule_rows(self) -> list[dict[str, object]]:
        """Each recurring job: its trigger, next run, whether paused, and its last ten runs."""
        now = self.now()
        rows = []
        with self.units.begin() as uow:
            for schedule in schedule_table(self.settings):
                runs = recent_runs(uow.session, schedule.job, limit=10)
                next_run = schedule.slot(now) + timedelta(seconds=schedule.every_seconds)
                rows.append(
                    {
                        "job": schedule.job,
                        "queue": JOBS[schedule.job].queue,
                        "trigger": f"every {schedule.every_seconds} s",
                        "next_run": next_run.isoformat(),
                        "paused": False,
                        "recent_runs": [
                            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in run.items()}
                            for run in runs
                        ],
                    }
                )
        return rows
