"""Schedule runs: one row per slot, claimed by an insert only one scheduler can win, then its
message, then what the worker made of it. Manual runs (`backroom schedules run`) are rows too,
fired by `manual:<who>`, and never count as a slot of the trigger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

MANUAL = "manual:"
RUN_COLUMNS = (
    "id, job_name, scheduled_for, fired_at, fired_by, message_id, state, send_attempts, "
    "started_at, finished_at, dead_letter_id, error"
)


def claim_run(
    session: Session, job: str, slot: datetime, fired_by: str, fired_at: datetime, state: str = "not_sent"
) -> int | None:
    """The new run's id, or None when another scheduler already claimed (or skipped) this slot.
    `fired_at` is the caller's clock, the one `claim_unsent` is later asked about (the server's
    now() would mix two clocks)."""
    run_id = session.execute(
        text(
            "INSERT INTO schedule_run (job_name, scheduled_for, fired_by, fired_at, state) "
            "VALUES (:job, :slot, :by, :at, :state) "
            "ON CONFLICT ON CONSTRAINT schedule_run_once_per_slot DO NOTHING RETURNING id"
        ),
        {"job": job, "slot": slot, "by": fired_by, "at": fired_at, "state": state},
    ).scalar_one_or_none()
    return int(run_id) if run_id is not None else None


def mark_sent(session: Session, run_id: int, message_id: str) -> None:
    session.execute(
        text(
            "UPDATE schedule_run SET message_id = :mid, send_attempts = send_attempts + 1, "
            "state = CASE WHEN state = 'not_sent' THEN 'sent' ELSE state END WHERE id = :id"
        ),
        {"mid": message_id, "id": run_id},
    )


def last_slot(session: Session, job: str) -> datetime | None:
    """The newest slot of the trigger any scheduler claimed or skipped (manual runs aside)."""
    value = session.execute(
        text(
            "SELECT max(scheduled_for) FROM schedule_run WHERE job_name = :job AND fired_by NOT LIKE :manual"
        ),
        {"job": job, "manual": MANUAL + "%"},
    ).scalar_one()
    return value if isinstance(value, datetime) else None


def claim_unsent(session: Session, job: str, claimed_before: datetime, limit: int = 10) -> list[int]:
    """Runs claimed but never sent (the broker was down), locked for one resender: SKIP LOCKED
    keeps two schedulers (or a scheduler and the reconciler) from sending one twice."""
    rows = session.execute(
        text(
            "SELECT id FROM schedule_run WHERE job_name = :job AND state = 'not_sent' "
            "AND fired_at < :before ORDER BY scheduled_for LIMIT :n FOR UPDATE SKIP LOCKED"
        ),
        {"job": job, "before": claimed_before, "n": limit},
    )
    return [int(r.id) for r in rows]


def mark_started(session: Session, run_id: int, now: datetime) -> None:
    session.execute(
        text(
            "UPDATE schedule_run SET state = 'running', started_at = COALESCE(started_at, :now), "
            "finished_at = NULL WHERE id = :id"
        ),
        {"id": run_id, "now": now},
    )


def mark_finished(
    session: Session, run_id: int, *, state: str, now: datetime, dead_letter_id: int | None, error: str | None
) -> None:
    """`succeeded` or `failed`; a failed run names the dead letter its message became, if any."""
    session.execute(
        text(
            "UPDATE schedule_run SET state = :state, finished_at = :now, error = :error, "
            "dead_letter_id = :dl WHERE id = :id"
        ),
        {"id": run_id, "state": state, "now": now, "dl": dead_letter_id, "error": error},
    )


def recent_runs(session: Session, job: str, limit: int = 10) -> list[dict[str, Any]]:
    rows = session.execute(
        text(
            f"SELECT {RUN_COLUMNS} FROM schedule_run WHERE job_name = :job "
            "ORDER BY scheduled_for DESC LIMIT :n"
        ),
        {"job": job, "n": limit},
    ).mappings()
    return [dict(row) for row in rows]


def last_success(session: Session, job: str) -> datetime | None:
    value = session.execute(
        text("SELECT max(finished_at) FROM schedule_run WHERE job_name = :job AND state = 'succeeded'"),
        {"job": job},
    ).scalar_one()
    return value if isinstance(value, datetime) else None
