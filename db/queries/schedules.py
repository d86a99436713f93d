"""Schedule runs: claiming a slot is an insert that only one scheduler can win."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session


def claim_slot(session: Session, job: str, scheduled_for: datetime, fired_by: str) -> int | None:
    """The new run's id, or None when another scheduler already fired this slot."""
    run_id = session.execute(
        text(
            "INSERT INTO schedule_run (job_name, scheduled_for, fired_by) VALUES (:job, :slot, :by) "
            "ON CONFLICT ON CONSTRAINT schedule_run_once_per_slot DO NOTHING RETURNING id"
        ),
        {"job": job, "slot": scheduled_for, "by": fired_by},
    ).scalar_one_or_none()
    return int(run_id) if run_id is not None else None


def record_message(session: Session, run_id: int, message_id: str) -> None:
    session.execute(
        text("UPDATE schedule_run SET message_id = :mid WHERE id = :id"), {"mid": message_id, "id": run_id}
    )


def recent_runs(session: Session, job: str, limit: int = 10) -> list[dict[str, object]]:
    rows = session.execute(
        text(
            "SELECT scheduled_for, fired_at, fired_by, message_id FROM schedule_run "
            "WHERE job_name = :job ORDER BY scheduled_for DESC LIMIT :n"
        ),
        {"job": job, "n": limit},
    ).mappings()
    return [dict(row) for row in rows]
