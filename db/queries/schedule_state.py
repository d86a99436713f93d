"""Operator state of each recurring job (paused, by whom, why; its overdue episode) and the audit
of schedule actions. One row per job, shared by every scheduler."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session


def ensure(session: Session, jobs: list[str], now: datetime) -> None:
    """A row for each job, `active_since` now for a job seen the first time."""
    session.execute(
        text(
            "INSERT INTO schedule_state (job_name, active_since) VALUES (:job, :now) "
            "ON CONFLICT (job_name) DO NOTHING"
        ),
        [{"job": job, "now": now} for job in jobs],
    )


def states(session: Session) -> dict[str, dict[str, Any]]:
    rows = session.execute(text("SELECT * FROM schedule_state")).mappings()
    return {row["job_name"]: dict(row) for row in rows}


def lock(session: Session, job: str) -> dict[str, Any] | None:
    row = (
        session.execute(text("SELECT * FROM schedule_state WHERE job_name = :job FOR UPDATE"), {"job": job})
        .mappings()
        .one_or_none()
    )
    return dict(row) if row is not None else None


def set_paused(session: Session, job: str, *, by: str, reason: str | None, now: datetime) -> None:
    session.execute(
        text(
            "UPDATE schedule_state SET paused = true, paused_by = :by, paused_reason = :reason, "
            "paused_at = :now WHERE job_name = :job"
        ),
        {"job": job, "by": by, "reason": reason, "now": now},
    )


def set_resumed(session: Session, job: str, now: datetime) -> None:
    """Overdue counts again from now: the pause was not the job's failure."""
    session.execute(
        text(
            "UPDATE schedule_state SET paused = false, paused_by = NULL, paused_reason = NULL, "
            "paused_at = NULL, active_since = :now, overdue_since = NULL WHERE job_name = :job"
        ),
        {"job": job, "now": now},
    )


def start_overdue(session: Session, job: str, now: datetime) -> bool:
    """Open an overdue episode; False when one is already open (one alert per episode)."""
    opened = session.execute(
        text(
            "UPDATE schedule_state SET overdue_since = :now, overdue_alerted_at = :now "
            "WHERE job_name = :job AND overdue_since IS NULL RETURNING job_name"
        ),
        {"job": job, "now": now},
    ).scalar_one_or_none()
    return opened is not None


def end_overdue(session: Session, job: str) -> None:
    session.execute(
        text(
            "UPDATE schedule_state SET overdue_since = NULL "
            "WHERE job_name = :job AND overdue_since IS NOT NULL"
        ),
        {"job": job},
    )


def audit(session: Session, *, job: str, action: str, by: str, reason: str | None) -> None:
    session.execute(
        text(
            "INSERT INTO schedule_action (job_name, action, by, reason) VALUES (:job, :action, :by, :reason)"
        ),
        {"job": job, "action": action, "by": by, "reason": reason},
    )
