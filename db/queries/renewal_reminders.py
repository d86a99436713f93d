"""Renewal reminder queries: the subscriptions inside their reminder window, in id order, and what
one reminder is checked against right before it is sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session


def in_window(session: Session, now: datetime, days_before: int, after: str, limit: int) -> list[Any]:
    """Active subscriptions that will renew and whose period ends within `days_before` days of
    `now` (not yet ended), after id `after`. The reminder's outbox key makes each one once."""
    return list(
        session.execute(
            text(
                "SELECT subscription_id, email, plan, amount, currency, state, cancel_at_period_end, "
                "current_period_end FROM subscription "
                "WHERE state = 'active' AND NOT cancel_at_period_end AND subscription_id > :after "
                "AND current_period_end > :now "
                "AND current_period_end <= :now + make_interval(days => :days) "
                "ORDER BY subscription_id LIMIT :limit"
            ),
            {"now": now, "days": days_before, "after": after, "limit": limit},
        )
    )


def renewal_terms(session: Session, subscription_id: str) -> Any | None:
    """Whether a reminder queued for this subscription still holds: its state, whether it will
    renew, and the period end it would announce."""
    return session.execute(
        text(
            "SELECT state, cancel_at_period_end, current_period_end FROM subscription "
            "WHERE subscription_id = :id"
        ),
        {"id": subscription_id},
    ).one_or_none()
