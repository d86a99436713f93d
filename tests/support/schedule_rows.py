"""Schedule rows for tests of the operator surfaces: a clean slate, a job's state as an operator
or an outage left it, a finished run, and the audit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, text

from db.engine import transaction


def clear_schedules(engine: Engine) -> None:
    with transaction(engine) as session:
        session.execute(
            text("DELETE FROM schedule_run; DELETE FROM schedule_state; DELETE FROM schedule_action")
        )
        session.execute(text("DELETE FROM email_outbox WHERE idempotency_key LIKE 'schedule-overdue/%'"))


def set_state(engine: Engine, job: str, *, active_since: datetime, paused: bool = False) -> None:
    """The job as schedulers have known it since `active_since` (long ago: overdue unless it
    succeeded since, or is paused)."""
    with transaction(engine) as session:
        session.execute(
            text(
                "INSERT INTO schedule_state (job_name, active_since, paused, paused_by, paused_at) "
                "VALUES (:job, :since, :paused, CASE WHEN :paused THEN 'tests' END, "
                "CASE WHEN :paused THEN :since END) "
                "ON CONFLICT (job_name) DO UPDATE SET active_since = :since, paused = :paused"
            ),
            {"job": job, "since": active_since, "paused": paused},
        )


def add_success(engine: Engine, job: str, *, finished_at: datetime) -> None:
    insert = (
        "INSERT INTO schedule_run (job_name, scheduled_for, fired_by, state, started_at, finished_at) "
        "VALUES (:job, :at, 'tests', 'succeeded', :at, :at)"
    )
    with transaction(engine) as session:
        session.execute(text(insert), {"job": job, "at": finished_at})


def actions(engine: Engine, job: str) -> list[tuple[str, str, str | None]]:
    """(action, by, reason) of every audit row for the job, oldest first."""
    with transaction(engine) as session:
        rows = session.execute(
            text("SELECT action, by, reason FROM schedule_action WHERE job_name = :job ORDER BY id"),
            {"job": job},
        ).all()
    return [(row.action, row.by, row.reason) for row in rows]


def runs(engine: Engine, job: str) -> list[tuple[str, str, str | None]]:
    """(fired_by, state, message_id) of every run of the job, oldest slot first."""
    with transaction(engine) as session:
        rows = session.execute(
            text(
                "SELECT fired_by, state, message_id FROM schedule_run WHERE job_name = :job "
                "ORDER BY scheduled_for"
            ),
            {"job": job},
        ).all()
    return [(row.fired_by, row.state, row.message_id) for row in rows]
