"""How a subscription reads to the storefront and operators: the row, its charges and their
attempts, straight from the tables (db/models/subscriptions.py), times as ISO 8601."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from db.queries import subscriptions as q


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def subscription_view(session: Session, subscription_id: str) -> dict[str, Any] | None:
    """The GET view, charges newest period first, each with its attempts in order; None if absent."""
    row = q.get_subscription(session, subscription_id)
    if row is None:
        return None
    charges = q.charges_of(session, subscription_id)
    attempts: dict[int, list[dict[str, Any]]] = {charge.id: [] for charge in charges}
    for attempt in q.attempts_of(session, list(attempts)):
        attempts[attempt.charge_id].append(
            {
                "number": attempt.number,
                "state": attempt.state,
                "gateway_reference": attempt.gateway_reference,
                "decline_code": attempt.decline_code,
                "decline_message": attempt.decline_message,
                "started_at": _iso(attempt.started_at),
                "finished_at": _iso(attempt.finished_at),
            }
        )
    return {
        "subscription_id": row.subscription_id,
        "email": row.email,
        "plan": row.plan,
        "amount": row.amount,
        "currency": row.currency,
        "interval": row.interval,
        "current_period_end": _iso(row.current_period_end),
        "gateway": row.gateway,
        "customer_ref": row.customer_ref,
        "payment_method_ref": row.payment_method_ref,
        "state": row.state,
        "cancel_at_period_end": row.cancel_at_period_end,
        "next_attempt_at": _iso(row.next_attempt_at),
        "dunning_step": row.dunning_step,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "charges": [
            {
                "period_start": _iso(charge.period_start),
                "period_end": _iso(charge.period_end),
                "amount": charge.amount,
                "currency": charge.currency,
                "state": charge.state,
                "gateway_reference": charge.gateway_reference,
                "failures": charge.failures,
                "attempts": attempts[charge.id],
            }
            for charge in charges
        ],
    }


def issue_view(row: Any) -> dict[str, Any]:
    """One row of the operators' list (db.queries.subscriptions.needing_a_person)."""
    return {
        "subscription_id": row.subscription_id,
        "email": row.email,
        "plan": row.plan,
        "amount": row.amount,
        "currency": row.currency,
        "state": row.state,
        "dunning_step": row.dunning_step,
        "next_attempt_at": _iso(row.next_attempt_at),
        "current_period_end": _iso(row.current_period_end),
        "last_decline": (
            {"code": row.decline_code, "message": row.decline_message}
            if row.decline_code is not None or row.decline_message is not None
            else None
        ),
    }
