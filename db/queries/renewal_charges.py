"""Renewal charge queries: the charge of a period (one a period), its attempts (at most one open or
succeeded), and each attempt's outcome (services/renewals.py, services/renewal_outcomes.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session


def open_attempt(session: Session, subscription_id: str) -> Any | None:
    """The subscription's attempt whose outcome is unknown (`started`), with its charge's period."""
    return session.execute(
        text(
            "SELECT a.*, c.period_start, c.period_end, c.amount, c.currency "
            "FROM subscription_charge_attempt a JOIN subscription_charge c ON c.id = a.charge_id "
            "WHERE c.subscription_id = :id AND a.state = 'started' ORDER BY a.id LIMIT 1"
        ),
        {"id": subscription_id},
    ).one_or_none()


def charge_for_period(session: Session, sub: Any, period_start: datetime, period_end: datetime) -> Any:
    """The period's charge, inserted once (unique per subscription and period start); a `failed`
    one (lapsed, then revived by an operator) is `pending` again."""
    values = {"id": sub.subscription_id, "start": period_start, "end": period_end}
    session.execute(
        text(
            "INSERT INTO subscription_charge (subscription_id, period_start, period_end, amount, currency) "
            "VALUES (:id, :start, :end, :amount, :currency) "
            "ON CONFLICT (subscription_id, period_start) DO NOTHING"
        ),
        values | {"amount": sub.amount, "currency": sub.currency},
    )
    return session.execute(
        text(
            "UPDATE subscription_charge SET updated_at = now(), "
            "state = CASE WHEN state = 'failed' THEN 'pending' ELSE state END "
            "WHERE subscription_id = :id AND period_start = :start RETURNING *"
        ),
        values,
    ).one()


def add_attempt(
    session: Session, charge_id: int, *, key_for: Any, gateway: str, payment_method_ref: str
) -> Any:
    """The charge's next attempt, `started`: number max+1 and the key `key_for(number)`. The partial
    unique index refuses it while another attempt is open or has succeeded."""
    number = session.execute(
        text("SELECT COALESCE(max(number), 0) + 1 FROM subscription_charge_attempt WHERE charge_id = :c"),
        {"c": charge_id},
    ).scalar_one()
    return session.execute(
        text(
            "INSERT INTO subscription_charge_attempt (charge_id, number, idempotency_key, gateway, "
            "payment_method_ref) VALUES (:c, :n, :key, :gateway, :pm) RETURNING *"
        ),
        {"c": charge_id, "n": number, "key": key_for(number), "gateway": gateway, "pm": payment_method_ref},
    ).one()


def set_attempt_reference(session: Session, attempt_id: int, reference: str) -> None:
    session.execute(
        text("UPDATE subscription_charge_attempt SET gateway_reference = :ref WHERE id = :id"),
        {"id": attempt_id, "ref": reference},
    )


def finish_attempt(
    session: Session,
    attempt_id: int,
    *,
    state: str,
    reference: str | None,
    code: str | None,
    message: str | None,
    now: datetime,
) -> bool:
    """Record the gateway's answer on a `started` attempt: False if it was recorded already."""
    done = session.execute(
        text(
            "UPDATE subscription_charge_attempt SET state = :state, finished_at = :now, "
            "gateway_reference = COALESCE(:ref, gateway_reference), decline_code = :code, "
            "decline_message = :message WHERE id = :id AND state = 'started' RETURNING id"
        ),
        {"id": attempt_id, "state": state, "ref": reference, "code": code, "message": message, "now": now},
    ).scalar_one_or_none()
    return done is not None


def charge_succeeded(session: Session, charge_id: int, reference: str) -> None:
    session.execute(
        text(
            "UPDATE subscription_charge SET state = 'succeeded', gateway_reference = :ref, "
            "updated_at = now() WHERE id = :id"
        ),
        {"id": charge_id, "ref": reference},
    )


def charge_declined(session: Session, charge_id: int, now: datetime) -> Any:
    """One more declined attempt: (failures, first_failed_at) after it."""
    return session.execute(
        text(
            "UPDATE subscription_charge SET failures = failures + 1, "
            "first_failed_at = COALESCE(first_failed_at, :now), updated_at = now() "
            "WHERE id = :id RETURNING failures, first_failed_at"
        ),
        {"id": charge_id, "now": now},
    ).one()


def charge_failed(session: Session, charge_id: int) -> None:
    session.execute(
        text("UPDATE subscription_charge SET state = 'failed', updated_at = now() WHERE id = :id"),
        {"id": charge_id},
    )
