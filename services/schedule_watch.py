"""Watching recurring jobs: which are overdue (one operator alert per overdue episode), and the
view operators read (trigger, pause, next run, last success, recent runs)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.catalog import EMAIL_ACTOR, JOBS
from core.errors import NotFound
from core.logging import get_logger
from core.rules.schedules import ScheduledJob, job_overdue
from core.settings import Settings
from db.queries import outbox
from db.queries import schedule_runs as runs
from db.queries import schedule_state as state
from db.unit_of_work import UnitOfWork, UnitsOfWork
from services.unsent import mark_unsent_if_unsent

log = get_logger("backroom.schedules")


class ScheduleNotFound(NotFound):
    slug, title = "schedule-not-found", "Schedule not found"


def find(table: Sequence[ScheduledJob], name: str) -> ScheduledJob:
    for scheduled in table:
        if scheduled.job == name:
            return scheduled
    raise ScheduleNotFound(f"No recurring job {name!r}; known: {', '.join(s.job for s in table)}.")


@dataclass(frozen=True)
class ScheduleWatch:
    units: UnitsOfWork
    settings: Settings
    now: Callable[[], datetime]
    table: Sequence[ScheduledJob]

    def check_overdue(self) -> list[str]:
        """Jobs with no success within a period plus their grace while not paused; one operator
        alert per overdue episode, not per tick."""
        now = self.now()
        overdue = []
        with self.units.begin() as uow:
            state.ensure(uow.session, [s.job for s in self.table], now)
            rows = state.states(uow.session)
            for scheduled in self.table:
                row = rows[scheduled.job]
                late = job_overdue(
                    scheduled,
                    paused=row["paused"],
                    active_since=row["active_since"],
                    last_success=runs.last_success(uow.session, scheduled.job),
                    now=now,
                )
                if not late:
                    state.end_overdue(uow.session, scheduled.job)
                    continue
                overdue.append(scheduled.job)
                if state.start_overdue(uow.session, scheduled.job, now):
                    self._alert(uow, scheduled, now)
        return overdue

    def _alert(self, uow: UnitOfWork, scheduled: ScheduledJob, now: datetime) -> None:
        log.warning("schedule.overdue", job=scheduled.job)
        if not self.settings.alert_email:
            return
        email_id = outbox.add_email(
            uow.session,
            key=f"schedule-overdue/{scheduled.job}/{now.isoformat()}",
            template="operator_alert",
            to=self.settings.alert_email,
            context={
                "subject": f"Recurring job {scheduled.job} is overdue",
                "message": (
                    f"{scheduled.job} ({scheduled.trigger.describe()}) has not succeeded within its period "
                    "plus its grace. See GET /v1/admin/schedules, backroom schedules list, or /admin."
                ),
                "details": {"job": scheduled.job, "since": now.isoformat()},
            },
        )
        if email_id is not None:
            unsent = mark_unsent_if_unsent(self.units, outbox.STUCK, email_id)
            uow.send_after_commit(*EMAIL_ACTOR, email_id, if_unsent=unsent)

    def overview(self, recent: int = 10) -> list[dict[str, Any]]:
        """Per job: trigger, time zone, paused (by whom, why, since), next run, last success,
        overdue, and its recent runs, newest first."""
        now = self.now()
        overdue = set(self.check_overdue())
        rows = []
        with self.units.begin() as uow:
            states = state.states(uow.session)
            for scheduled in self.table:
                row = states[scheduled.job]
                last = runs.last_success(uow.session, scheduled.job)
                recent_runs = runs.recent_runs(uow.session, scheduled.job, recent)
                rows.append(
                    {
                        "job": scheduled.job,
                        "queue": JOBS[scheduled.job].queue,
                        "trigger": scheduled.trigger.describe(),
                        "timezone": scheduled.trigger.tz,
                        "misfire": scheduled.misfire,
                        "grace_seconds": int(scheduled.grace_at(now).total_seconds()),
                        "paused": row["paused"],
                        "paused_by": row["paused_by"],
                        "paused_reason": row["paused_reason"],
                        "paused_at": row["paused_at"],
                        "next_run": None if row["paused"] else scheduled.trigger.next_after(now),
                        "last_success": last,
                        "overdue": scheduled.job in overdue,
                        "overdue_since": row["overdue_since"],
                        "recent_runs": [_run_view(run) for run in recent_runs],
                    }
                )
        return rows


def _run_view(run: dict[str, Any]) -> dict[str, Any]:
    started, finished = run["started_at"], run["finished_at"]
    duration = int((finished - started).total_seconds() * 1000) if started and finished else None
    return {
        "scheduled_for": run["scheduled_for"],
        "fired_at": run["fired_at"],
        "fired_by": run["fired_by"],
        "message_id": run["message_id"],
        "state": run["state"],
        "started_at": started,
        "finished_at": finished,
        "duration_ms": duration,
        "dead_letter_id": run["dead_letter_id"],
    }
