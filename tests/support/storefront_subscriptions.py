"""Subscriptions for the storefront and operator tests: bodies for the API, rows written straight
into the tables (the states and charges only a renewal run makes), and the renewal messages sent.

The apps built here send to a Redis namespace of their own that no worker consumes, so a test
counts exactly the messages its requests sent and no renewal runs under its feet."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import dramatiq
import falcon.testing
import redis
from sqlalchemy import Engine, text

from core.catalog import RENEWAL_ACTOR
from core.settings import Settings
from db.engine import transaction
from tests.conftest import STOREFRONT, auth

H = auth(STOREFRONT)


def quiet_client(
    settings: Settings, engine: Engine, clock: Any
) -> tuple[falcon.testing.TestClient, Settings]:
    from api.app import create_app

    quiet = settings.model_copy(update={"redis_namespace": f"brtest-subs-{uuid.uuid4().hex[:8]}"})
    return falcon.testing.TestClient(create_app(quiet, engine=engine, now=clock)), quiet


def renewals_sent(settings: Settings, subscription_id: str) -> int:
    """`subscriptions.renew` messages waiting for this subscription in the settings' namespace."""
    actor, queue = RENEWAL_ACTOR
    client = redis.Redis.from_url(settings.redis_url)
    try:
        raw = client.hvals(f"{settings.redis_namespace}:{queue}.msgs")
    finally:
        client.close()
    messages = [dramatiq.Message.decode(value) for value in raw]
    return sum(1 for m in messages if m.actor_name == actor and list(m.args) == [subscription_id])


def new_subscription_id() -> str:
    return f"sub-{uuid.uuid4().hex[:12]}"


def body(now: datetime, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "email": "ada@example.com",
        "plan": "premium-monthly",
        "amount": 1299,
        "currency": "usd",
        "interval": "month",
        "current_period_end": (now + timedelta(days=30)).isoformat(),
        "gateway": "fake",
        "customer_ref": "cus_ada",
        "payment_method_ref": "pm_fake_ok",
    }
    values.update(overrides)
    return values


def create(client: falcon.testing.TestClient, now: datetime, **overrides: Any) -> str:
    subscription_id = new_subscription_id()
    answer = client.simulate_put(
        f"/v1/subscriptions/{subscription_id}", json=body(now, **overrides), headers=H
    )
    assert answer.status_code == 201, answer.json
    return subscription_id


def set_row(engine: Engine, subscription_id: str, **columns: Any) -> None:
    """Put the subscription in a state a renewal run would have made (test data, not code)."""
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    with transaction(engine) as s:
        s.execute(
            text(f"UPDATE subscription SET {assignments} WHERE subscription_id = :id"),  # noqa: S608 (names: ours)
            {"id": subscription_id, **columns},
        )


def row(engine: Engine, subscription_id: str) -> Any:
    with transaction(engine) as s:
        return s.execute(
            text("SELECT * FROM subscription WHERE subscription_id = :id"), {"id": subscription_id}
        ).one()


def add_charge(
    engine: Engine,
    subscription_id: str,
    start: datetime,
    end: datetime,
    *,
    state: str = "pending",
    reference: str | None = None,
    attempts: tuple[dict[str, Any], ...] = (),
) -> int:
    """A charge and its attempts (each {state, reference?, code?, message?, at}), numbered 1, 2, ..."""
    declined = sum(1 for a in attempts if a["state"] == "declined")
    with transaction(engine) as s:
        charge_id = s.execute(
            text(
                "INSERT INTO subscription_charge (subscription_id, period_start, period_end, amount, "
                "currency, state, failures, gateway_reference) VALUES (:id, :start, :end, 1299, 'USD', "
                ":state, :failures, :reference) RETURNING id"
            ),
            {
                "id": subscription_id,
                "start": start,
                "end": end,
                "state": state,
                "failures": declined,
                "reference": reference,
            },
        ).scalar_one()
        for number, attempt in enumerate(attempts, start=1):
            s.execute(
                text(
                    "INSERT INTO subscription_charge_attempt (charge_id, number, idempotency_key, gateway, "
                    "payment_method_ref, state, gateway_reference, decline_code, decline_message, "
                    "started_at, finished_at) VALUES (:charge, :number, :key, 'fake', 'pm_fake_ok', :state, "
                    ":reference, :code, :message, :at, :finished)"
                ),
                {
                    "charge": charge_id,
                    "number": number,
                    "key": f"renewal/{subscription_id}/{start.isoformat()}/{number}",
                    "state": attempt["state"],
                    "reference": attempt.get("reference"),
                    "code": attempt.get("code"),
                    "message": attempt.get("message"),
                    "at": attempt["at"],
                    "finished": None if attempt["state"] == "started" else attempt["at"],
                },
            )
    return int(charge_id)
