"""Subscriptions for renewal tests, inserted with SQL, and what the renewals made of them: the
subscription, its charges and attempts, and the emails queued for it in the outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

from db.engine import transaction


def insert_subscription(engine: Engine, period_end: datetime, **values: Any) -> str:
    """An active monthly subscription of 12.50 EUR on the fake gateway ending its period at
    `period_end` (its day of the month is the anchor), unless `values` say otherwise."""
    row = {
        "subscription_id": f"sub-{uuid.uuid4().hex[:12]}",
        "email": "ada@example.com",
        "plan": "Premium",
        "amount": 1250,
        "currency": "EUR",
        "interval": "month",
        "anchor_day": period_end.day,
        "current_period_end": period_end,
        "gateway": "fake",
        "customer_ref": "cus_fake",
        "payment_method_ref": "pm_fake_ok",
        "state": "active",
        "cancel_at_period_end": False,
        "next_attempt_at": None,
    } | values
    columns = ", ".join(row)
    with transaction(engine) as s:
        insert = f"INSERT INTO subscription ({columns}) VALUES (:{', :'.join(row)})"  # noqa: S608 (names: ours)
        s.execute(text(insert), row)
    return str(row["subscription_id"])


def update_subscription(engine: Engine, subscription_id: str, **values: Any) -> None:
    assignments = ", ".join(f"{column} = :{column}" for column in values)
    with transaction(engine) as s:
        s.execute(
            text(f"UPDATE subscription SET {assignments} WHERE subscription_id = :id"),  # noqa: S608 (names: ours)
            values | {"id": subscription_id},
        )


def subscription(engine: Engine, subscription_id: str) -> Any:
    with transaction(engine) as s:
        return s.execute(
            text("SELECT * FROM subscription WHERE subscription_id = :id"), {"id": subscription_id}
        ).one()


def charges(engine: Engine, subscription_id: str) -> list[Any]:
    with transaction(engine) as s:
        return list(
            s.execute(
                text("SELECT * FROM subscription_charge WHERE subscription_id = :id ORDER BY period_start"),
                {"id": subscription_id},
            )
        )


def attempts(engine: Engine, subscription_id: str) -> list[Any]:
    with transaction(engine) as s:
        return list(
            s.execute(
                text(
                    "SELECT a.* FROM subscription_charge_attempt a JOIN subscription_charge c "
                    "ON c.id = a.charge_id WHERE c.subscription_id = :id ORDER BY c.period_start, a.number"
                ),
                {"id": subscription_id},
            )
        )


def emails(engine: Engine, subscription_id: str) -> list[Any]:
    """Outbox rows of this subscription's renewal emails and reminders, oldest first."""
    with transaction(engine) as s:
        return list(
            s.execute(
                text("SELECT * FROM email_outbox WHERE idempotency_key LIKE :k ORDER BY id"),
                {"k": f"%/{subscription_id}/%"},
            )
        )


def email_keys(engine: Engine, subscription_id: str) -> list[str]:
    return [row.idempotency_key for row in emails(engine, subscription_id)]
