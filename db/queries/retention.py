"""Retention queries: a bounded batch of finished rows older than a cutoff, in id order, and the
delete of exactly those ids. Each delete checks the row is still finished and old (and, for a
checkout, that nothing references it), so a row that changed since its batch was read stays.

Finished means: a webhook event `processed` or `ignored` (by `processed_at`, else `received_at`),
an outbox email `sent` (by `sent_at`), a reservation `released`, `expired` or `committed` (by
`ended_at`, else `expires_at`), a checkout `released` or `converted` that no reservation and no
order references any more (by `updated_at`), and a dead letter (by `last_failed_at`; deleted
through services/dead_letters.py's purge, which audits it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlmodel import Session

WEBHOOK_FINISHED = "state IN ('processed', 'ignored') AND COALESCE(processed_at, received_at) < :cutoff"
OUTBOX_FINISHED = "state = 'sent' AND sent_at < :cutoff"
RESERVATION_FINISHED = (
    "state IN ('released', 'expired', 'committed') AND COALESCE(ended_at, expires_at) < :cutoff"
)
CHECKOUT_FINISHED = (
    "c.state IN ('released', 'converted') AND c.updated_at < :cutoff "
    "AND NOT EXISTS (SELECT 1 FROM reservation r WHERE r.checkout_id = c.checkout_id) "
    "AND NOT EXISTS (SELECT 1 FROM customer_order o WHERE o.checkout_id = c.checkout_id)"
)
DEAD_LETTER_OLD = "last_failed_at < :cutoff"


def _rows(session: Session, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in session.execute(text(sql), params).mappings()]


def _deleted(session: Session, sql: str, ids: list[Any], cutoff: datetime) -> int:
    if not ids:
        return 0
    statement = text(sql).bindparams(bindparam("ids", expanding=True))
    return len(session.execute(statement, {"ids": ids, "cutoff": cutoff}).all())


def finished_webhook_events(session: Session, cutoff: datetime, limit: int) -> list[dict[str, Any]]:
    return _rows(
        session,
        f"SELECT * FROM webhook_event WHERE {WEBHOOK_FINISHED} ORDER BY id LIMIT :limit",
        {"cutoff": cutoff, "limit": limit},
    )


def delete_webhook_events(session: Session, ids: list[int], cutoff: datetime) -> int:
    return _deleted(
        session,
        f"DELETE FROM webhook_event WHERE id IN :ids AND {WEBHOOK_FINISHED} RETURNING id",
        ids,
        cutoff,
    )


def sent_emails(session: Session, cutoff: datetime, limit: int) -> list[dict[str, Any]]:
    return _rows(
        session,
        f"SELECT * FROM email_outbox WHERE {OUTBOX_FINISHED} ORDER BY id LIMIT :limit",
        {"cutoff": cutoff, "limit": limit},
    )


def delete_sent_emails(session: Session, ids: list[int], cutoff: datetime) -> int:
    return _deleted(
        session, f"DELETE FROM email_outbox WHERE id IN :ids AND {OUTBOX_FINISHED} RETURNING id", ids, cutoff
    )


def ended_reservations(session: Session, cutoff: datetime, limit: int) -> list[dict[str, Any]]:
    return _rows(
        session,
        f"SELECT * FROM reservation WHERE {RESERVATION_FINISHED} ORDER BY id LIMIT :limit",
        {"cutoff": cutoff, "limit": limit},
    )


def delete_ended_reservations(session: Session, ids: list[int], cutoff: datetime) -> int:
    return _deleted(
        session,
        f"DELETE FROM reservation WHERE id IN :ids AND {RESERVATION_FINISHED} RETURNING id",
        ids,
        cutoff,
    )


def closed_checkouts(session: Session, cutoff: datetime, limit: int) -> list[dict[str, Any]]:
    """Closed checkouts nothing references (their reservations archived first, no order)."""
    return _rows(
        session,
        f"SELECT c.* FROM checkout c WHERE {CHECKOUT_FINISHED} ORDER BY c.checkout_id LIMIT :limit",
        {"cutoff": cutoff, "limit": limit},
    )


def delete_closed_checkouts(session: Session, ids: list[str], cutoff: datetime) -> int:
    return _deleted(
        session,
        f"DELETE FROM checkout c WHERE c.checkout_id IN :ids AND {CHECKOUT_FINISHED} RETURNING c.checkout_id",
        ids,
        cutoff,
    )


def old_dead_letters(session: Session, cutoff: datetime, limit: int) -> list[dict[str, Any]]:
    return _rows(
        session,
        f"SELECT * FROM dead_letter WHERE {DEAD_LETTER_OLD} ORDER BY id LIMIT :limit",
        {"cutoff": cutoff, "limit": limit},
    )
