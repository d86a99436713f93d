"""Subscription queries for the storefront and operators: one subscription, its charges and their
attempts, and the subscriptions a person must look at. The renewal run has its own
(db/queries/renewals.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlmodel import Session

_COLUMNS = (
    'subscription_id, email, plan, amount, currency, "interval", anchor_day, current_period_end, gateway, '
    "customer_ref, payment_method_ref, state, cancel_at_period_end, next_attempt_at, dunning_step, "
    "cancelled_at, lapsed_at, created_at, updated_at"
)
# What the storefront's PUT replaces (current_period_end and anchor_day only ever move later).
TERMS = (
    "email",
    "plan",
    "amount",
    "currency",
    "interval",
    "gateway",
    "customer_ref",
    "payment_method_ref",
    "current_period_end",
    "anchor_day",
)


def get_subscription(session: Session, subscription_id: str, *, lock: bool = False) -> Any | None:
    suffix = " FOR UPDATE" if lock else ""
    return session.execute(
        text(f"SELECT {_COLUMNS} FROM subscription WHERE subscription_id = :id{suffix}"),
        {"id": subscription_id},
    ).one_or_none()


def insert_subscription(session: Session, subscription_id: str, now: datetime, **terms: Any) -> bool:
    """A new subscription, active; False when it already exists (the caller locks and updates)."""
    names = ", ".join(f'"{name}"' for name in TERMS)  # quoted: `interval` is a keyword
    values = ", ".join(f":{name}" for name in TERMS)
    created = session.execute(
        text(
            f"INSERT INTO subscription (subscription_id, {names}, created_at, updated_at) "
            f"VALUES (:id, {values}, :now, :now) "
            "ON CONFLICT (subscription_id) DO NOTHING RETURNING subscription_id"
        ),
        {"id": subscription_id, "now": now, **terms},
    ).scalar_one_or_none()
    return created is not None


def update_subscription(session: Session, subscription_id: str, now: datetime, **values: Any) -> None:
    """Set the named columns (the caller holds the row lock and decided the values)."""
    assignments = ", ".join(f'"{name}" = :{name}' for name in values)
    session.execute(
        text(f"UPDATE subscription SET {assignments}, updated_at = :now WHERE subscription_id = :id"),
        {"id": subscription_id, "now": now, **values},
    )


def charges_of(session: Session, subscription_id: str) -> list[Any]:
    """The subscription's charges, newest period first."""
    return list(
        session.execute(
            text(
                "SELECT id, period_start, period_end, amount, currency, state, gateway_reference, failures "
                "FROM subscription_charge WHERE subscription_id = :id ORDER BY period_start DESC"
            ),
            {"id": subscription_id},
        )
    )


def attempts_of(session: Session, charge_ids: list[int]) -> list[Any]:
    """Every attempt of these charges, in the order they were tried."""
    if not charge_ids:
        return []
    return list(
        session.execute(
            text(
                "SELECT charge_id, number, state, gateway_reference, decline_code, decline_message, "
                "started_at, finished_at FROM subscription_charge_attempt "
                "WHERE charge_id IN :ids ORDER BY charge_id, number"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": charge_ids},
        )
    )


def needing_a_person(session: Session, states: list[str], *, limit: int, offset: int) -> list[Any]:
    """Past-due and lapsed subscriptions (those of `states`), the longest unpaid first, each with
    its newest declined attempt's code and message."""
    return list(
        session.execute(
            text(
                "SELECT s.subscription_id, s.email, s.plan, s.amount, s.currency, s.state, s.dunning_step, "
                "s.next_attempt_at, s.current_period_end, d.decline_code, d.decline_message "
                "FROM subscription s LEFT JOIN LATERAL ("
                "  SELECT a.decline_code, a.decline_message FROM subscription_charge_attempt a "
                "  JOIN subscription_charge c ON c.id = a.charge_id "
                "  WHERE c.subscription_id = s.subscription_id AND a.state = 'declined' "
                "  ORDER BY a.finished_at DESC NULLS LAST, a.id DESC LIMIT 1"
                ") d ON TRUE WHERE s.state IN :states "
                "ORDER BY s.current_period_end, s.subscription_id LIMIT :limit OFFSET :offset"
            ).bindparams(bindparam("states", expanding=True)),
            {"states": states, "limit": limit, "offset": offset},
        )
    )
