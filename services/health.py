"""What probes and scrapes read: readiness (PostgreSQL, Redis, migrations at head) and each
recurring job's health (last success, overdue). Read-only: a load balancer's probe or a
Prometheus scrape changes nothing and sends nothing; the overdue alert is the scheduler's and
the reconciler's (`services.schedule_watch.ScheduleWatch.check_overdue`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from core.rules.schedules import ScheduledJob, job_overdue
from db.migrate import current_revision
from db.queries import schedule_runs as runs
from db.queries import schedule_state as state
from db.unit_of_work import UnitsOfWork


@dataclass(frozen=True)
class JobHealth:
    job: str
    last_success: datetime | None
    overdue: bool


@dataclass(frozen=True)
class ScheduleHealth:
    """Per recurring job, now: its last success and whether it is overdue (not paused, no success
    within its period plus its grace), by the same rule as ScheduleWatch. A job no scheduler or
    reconciler has seen yet (no schedule_state row) is not overdue: it has no start to count from."""

    units: UnitsOfWork
    now: Callable[[], datetime]
    table: Sequence[ScheduledJob]

    def status(self) -> list[JobHealth]:
        now = self.now()
        found = []
        with self.units.begin() as uow:
            rows = state.states(uow.session)
            for scheduled in self.table:
                last = runs.last_success(uow.session, scheduled.job)
                row = rows.get(scheduled.job)
                overdue = row is not None and job_overdue(
                    scheduled,
                    paused=row["paused"],
                    active_since=row["active_since"],
                    last_success=last,
                    now=now,
                )
                found.append(JobHealth(scheduled.job, last, overdue))
        return found

    def overdue(self) -> list[str]:
        return [health.job for health in self.status() if health.overdue]


@dataclass(frozen=True)
class Readiness:
    """Can this process serve: PostgreSQL reachable, its migrations at `head`, Redis answering.
    Overdue jobs are reported (verbose) but never fail readiness: a web process cannot fix them."""

    engine: Engine
    ping_redis: Callable[[], object]
    head: str | None
    schedules: ScheduleHealth

    def checks(self) -> dict[str, str]:
        """Each dependency: "ok", or what is wrong with it."""
        checks: dict[str, str] = {}
        try:
            revision = current_revision(self.engine)  # connects: PostgreSQL answers or this raises
            checks["postgres"] = "ok"
            checks["migrations"] = "ok" if revision == self.head else f"at {revision}, head is {self.head}"
        except Exception as error:
            checks["postgres"] = f"unreachable: {type(error).__name__}"
            checks["migrations"] = "unknown"
        try:
            self.ping_redis()
            checks["redis"] = "ok"
        except Exception as error:
            checks["redis"] = f"unreachable: {type(error).__name__}"
        return checks

    def schedule_report(self, checks: dict[str, str]) -> dict[str, Any]:
        """`{"overdue": [job, ...]}`; `{"overdue": null, "error": ...}` when it cannot be read
        (not tried when `checks` found PostgreSQL unreachable: one timeout a probe is enough)."""
        if checks.get("postgres") != "ok":
            return {"overdue": None, "error": "postgres unreachable"}
        try:
            return {"overdue": self.schedules.overdue()}
        except Exception as error:
            return {"overdue": None, "error": f"unavailable: {type(error).__name__}"}
