import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from db.engine import transaction
from db.queries import reserved
from tests.support.factories import reservations_service, store_product
from tests.support.waiting import wait_for
from worker.messages import enqueue


def _setup(engine, settings, holds):
    """Product with stock 100 and reservations (checkout, qty, expires_in_seconds, state)."""
    sku = store_product(engine, settings, 100)
    now = datetime.now(UTC)
    with transaction(engine) as s:
        for checkout, quantity, expires_in, state in holds:
            s.execute(
                text("INSERT INTO checkout (checkout_id, email) VALUES (:c, 'x@example.com')"),
                {"c": checkout},
            )
            s.execute(
                text(
                    "INSERT INTO reservation (checkout_id, sku, quantity, expires_at, state) "
                    "VALUES (:c, :sku, :n, :exp, :st)"
                ),
                {
                    "c": checkout,
                    "sku": sku,
                    "n": quantity,
                    "exp": now + timedelta(seconds=expires_in),
                    "st": state,
                },
            )
            if state == "active":  # as a reservation does: the counter counts every active hold
                s.execute(
                    text("UPDATE product SET reserved = reserved + :n WHERE sku = :sku"),
                    {"n": quantity, "sku": sku},
                )
    return sku


def _states(engine, sku):
    with transaction(engine) as s:
        rows = s.execute(text("SELECT checkout_id, state FROM reservation WHERE sku = :sku"), {"sku": sku})
        return dict(rows.all())


@pytest.mark.broker
def test_worker_expires_past_holds_and_leaves_live_and_committed_ones(engine, broker, worker, settings):
    p = uuid.uuid4().hex[:6]
    sku = _setup(
        engine,
        settings,
        [
            (f"{p}-old", 1, -60, "active"),
            (f"{p}-older", 2, -3600, "active"),
            (f"{p}-live", 3, 600, "active"),
            (f"{p}-paid", 4, -60, "committed"),
        ],
    )
    enqueue(broker, "stock-cleanup")
    states = wait_for(
        lambda: (s := _states(engine, sku))[f"{p}-old"] == "expired" and s, what="cleanup to expire holds"
    )
    assert states == {
        f"{p}-old": "expired",
        f"{p}-older": "expired",
        f"{p}-live": "active",
        f"{p}-paid": "committed",
    }


def test_cleanup_works_in_bounded_batches_and_is_idempotent(engine, broker, worker, settings):
    p = uuid.uuid4().hex[:6]
    sku = _setup(engine, settings, [(f"{p}-{i}", 1, -5, "active") for i in range(7)])
    with transaction(engine) as s:
        first, _ = reserved.expire_batch(s, datetime.now(UTC), 3)
    assert first == 3
    enqueue(broker, "stock-cleanup")
    enqueue(broker, "stock-cleanup")
    wait_for(lambda: set(_states(engine, sku).values()) == {"expired"}, what="all holds expired")
    broker.join("stock", timeout=10_000)
    assert set(_states(engine, sku).values()) == {"expired"}


@pytest.mark.broker
def test_job_trigger_route_enqueues_for_the_worker(client, engine, worker, settings):
    from tests.conftest import CRON, auth

    p = uuid.uuid4().hex[:6]
    sku = _setup(engine, settings, [(f"{p}-gone", 1, -1, "active")])
    answer = client.simulate_post("/v1/jobs/stock-cleanup/run", headers=auth(CRON))
    assert answer.status_code == 202
    assert answer.json["queue"] == "stock" and len(answer.json["message_id"]) == 36
    wait_for(lambda: _states(engine, sku)[f"{p}-gone"] == "expired", what="triggered cleanup")


def test_expire_reservations_runs_bounded_batches_until_none_is_left(engine, settings):
    p = uuid.uuid4().hex[:6]
    sku = _setup(engine, settings, [(f"{p}-{i}", 1, -5, "active") for i in range(7)])
    reservations = reservations_service(engine, settings, stock_cleanup_batch_size=3)
    assert reservations.expire_reservations() >= 7  # other tests' past holds may be among them
    assert set(_states(engine, sku).values()) == {"expired"}
