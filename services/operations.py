"""What operators watch: every queue's depth with its dead letters, and every recurring job's
schedule with its recent runs (the API, the operator page and `backroom queues` show these)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dramatiq

from core.catalog import queues
from core.schedule_table import schedule_table
from core.settings import Settings
from db.queries.dead_letters import dead_per_queue
from db.unit_of_work import UnitsOfWork
from services.schedule_watch import ScheduleWatch
from worker.queue_stats import queue_stats


@dataclass(frozen=True)
class Operations:
    units: UnitsOfWork
    broker: dramatiq.Broker  # Redis or RabbitMQ: worker/queue_stats.py reads either
    settings: Settings
    now: Callable[[], datetime]

    def queue_table(self) -> list[dict[str, object]]:
        """Per queue: ready, delayed, in flight, dead in the broker, dead in the ledger, the oldest age."""
        with self.units.begin() as uow:
            dead = dead_per_queue(uow.session)
        rows = []
        for stats in queue_stats(self.broker, queues()):
            row = stats.as_dict()
            row["dead"] = dead.get(stats.queue, 0)
            rows.append(row)
        return rows

    def schedule_rows(self) -> list[dict[str, object]]:
        """Each recurring job: trigger, pause, next run, last success, overdue, recent runs."""
        watch = ScheduleWatch(self.units, self.settings, self.now, schedule_table(self.settings))
        return [_iso(row) for row in watch.overview()]


def _iso(value: Any) -> Any:
    """Times as ISO 8601 strings, for JSON and templates alike."""
    if isinstance(value, dict):
        return {key: _iso(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_iso(item) for item in value]
    return value.isoformat() if isinstance(value, datetime) else value
