"""Email outbox queries: one row per email decided, keyed by its idempotency key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session

from db.queries.stuck_intents import Intent


def add_email(session: Session, *, key: str, template: str, to: str, context: dict[str, Any]) -> int | None:
    """Queue an email in the caller's transaction; None if that key was already queued."""
    row = session.execute(
        text(
            "INSERT INTO email_outbox (idempotency_key, template, to_address, context) "
            "VALUES (:key, :template, :to, :context) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
        ).bindparams(bindparam("context", type_=JSONB)),
        {"key": key, "template": template, "to": to, "context": context},
    ).scalar_one_or_none()
    return int(row) if row is not None else None


def get_email(session: Session, outbox_id: int) -> Any | None:
    return session.execute(text("SELECT * FROM email_outbox WHERE id = :id"), {"id": outbox_id}).one_or_none()


def record_attempt(
    session: Session, outbox_id: int, *, sent_id: str | None, error: str | None, failed: bool, now: datetime
) -> None:
    session.execute(
        text(
            "UPDATE email_outbox SET attempts = attempts + 1, last_error = :error, "
            "provider_message_id = COALESCE(:sent_id, provider_message_id), "
            "sent_at = CASE WHEN :sent_id IS NULL THEN sent_at ELSE :now END, "
            "state = CASE WHEN :sent_id IS NOT NULL THEN 'sent' WHEN :failed THEN 'failed' ELSE state END "
            "WHERE id = :id"
        ),
        {"id": outbox_id, "sent_id": sent_id, "error": error, "failed": failed, "now": now},
    )


def reopen_failed(session: Session, outbox_id: int) -> bool:
    """Make a `failed` row `pending` again (an operator replays its dead letter): True if it was failed."""
    reopened = session.execute(
        text("UPDATE email_outbox SET state = 'pending' WHERE id = :id AND state = 'failed' RETURNING id"),
        {"id": outbox_id},
    ).scalar_one_or_none()
    return reopened is not None


def close_pending(session: Session, outbox_id: int, note: str) -> bool:
    """An operator purged the email's dead letter: it is `failed`, never sent again."""
    closed = session.execute(
        text(
            "UPDATE email_outbox SET state = 'failed', last_error = :note "
            "WHERE id = :id AND state = 'pending' RETURNING id"
        ),
        {"id": outbox_id, "note": note},
    ).scalar_one_or_none()
    return closed is not None


# The reconciler's view of this table (db/queries/stuck_intents.py): `pending` since `created_at`.
STUCK = Intent(table="email_outbox", first_state="pending", created_column="created_at")
