"""Renewal queries: the per-subscription lock, the subscription row and what a renewal writes to it,
and the ids a renewal run picks (services/renewals.py); charges and attempts: renewal_charges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlmodel import Session

_LOCK_KEY = "hashtextextended('renewal:' || :id, 0)"


def try_lock(connection: Connection, subscription_id: str) -> bool:
    """A session-level advisory lock on `connection`: held until `unlock` or the connection ends
    (a killed worker's connection closes, and Postgres frees it)."""
    got = connection.execute(text(f"SELECT pg_try_advisory_lock({_LOCK_KEY})"), {"id": subscription_id})
    return bool(got.scalar_one())


def unlock(connection: Connection, subscription_id: str) -> None:
    connection.execute(text(f"SELECT pg_advisory_unlock({_LOCK_KEY})"), {"id": subscription_id})


def lock_subscription(session: Session, subscription_id: str) -> Any | None:
    return session.execute(
        text("SELECT * FROM subscription WHERE subscription_id = :id FOR UPDATE"), {"id": subscription_id}
    ).one_or_none()


def update_subscription(session: Session, subscription_id: str, now: datetime, **values: Any) -> None:
    """Set the given subscription columns (names from this module's callers, never from input)."""
    assignments = ", ".join(f"{column} = :{column}" for column in values)
    session.execute(
        text(f"UPDATE subscription SET {assignments}, updated_at = :now WHERE subscription_id = :id"),
        values | {"id": subscription_id, "now": now},
    )


def due_ids(session: Session, now: datetime, after: str, limit: int) -> list[str]:
    """Subscriptions a renewal run should look at, in id order after `after`: active ones whose
    period ended, past-due ones whose next attempt is due, and any with an attempt whose outcome
    is unknown (a worker died during it). The renewal re-checks each under its lock."""
    rows = session.execute(
        text(
            "SELECT subscription_id FROM subscription s WHERE s.subscription_id > :after AND ("
            "(s.state = 'active' AND s.current_period_end <= :now) "
            "OR (s.state = 'past_due' AND s.current_period_end <= :now "
            "    AND (s.next_attempt_at IS NULL OR s.next_attempt_at <= :now)) "
            "OR EXISTS (SELECT 1 FROM subscription_charge c JOIN subscription_charge_attempt a "
            "    ON a.charge_id = c.id WHERE c.subscription_id = s.subscription_id AND a.state = 'started')"
            ") ORDER BY s.subscription_id LIMIT :limit"
        ),
        {"now": now, "after": after, "limit": limit},
    ).scalars()
    return [str(row) for row in rows]
