import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from db.engine import transaction
from db.queries import products
from db.queries import stock as q
from tests.support.waiting import wait_for
from worker.messages import enqueue


def _setup(engine, holds):
    """Product with stock 100 and reservations (checkout, qty, expires_in_seconds, state)."""
    sku = f"sku-{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC)
    with transaction(engine) as s:
        products.upsert_product(s, sku=sku, name=sku, stock=100, threshold=0, price=100, currency="USD")
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
    return sku


def _states(engine, sku):
    with transaction(engine) as s:
        rows = s.execute(text("SELECT checkout_id, state FROM reservation WHERE sku = :sku"), {"sku": sku})
        return dict(rows.all())


def test_worker_expires_past_holds_and_leaves_live_and_committed_ones(engine, broker, worker):
    p = uuid.uuid4().hex[:6]
    sku = _setup(
        engine,
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
    sku = _setup(engine, [(f"{p}-{i}", 1, -5, "active") for i in range(7)])
    with transaction(engine) as s:
        first = q.expire_batch(s, datetime.now(UTC), 3)
    assert first == 3
    enqueue(broker, "stock-cleanup")
    enqueue(broker, "stock-cleanup")
    wait_for(lambda: set(_states(engine, sku).values()) == {"expired"}, what="all holds expired")
    broker.join("stock", timeout=10_000)
    assert set(_states(engine, sku).values()) == {"expired"}


def test_job_trigger_route_enqueues_for_the_worker(client, engine, worker):
    from tests.conftest import CRON, auth

    p = uuid.uuid4().hex[:6]
    sku = _setup(engine, [(f"{p}-gone", 1, -1, "active")])
    answer = client.simulate_post("/v1/jobs/stock-cleanup/run", headers=auth(CRON))
    assert answer.status_code == 202
    assert answer.json["queue"] == "stock" and len(answer.json["message_id"]) == 36
    wait_for(lambda: _states(engine, sku)[f"{p}-gone"] == "expired", what="triggered cleanup")
