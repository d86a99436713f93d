"""A refund and its payment processed at the same moment by two worker threads: the refund is
applied whichever commits first (found by review: each used to miss the other's uncommitted row)."""

import threading
import uuid

from sqlalchemy import text
from sqlmodel import Session

from core.clock import utcnow
from db.engine import transaction
from db.queries.webhooks import store_event
from jobs.payment_effects import process_event
from tests.support.payloads import body
from tests.support.waiting import wait_for


def stored(engine, provider, kind, checkout, payment):
    payload = body(provider, kind, checkout_id=checkout, payment_id=payment)
    with transaction(engine) as session:
        return store_event(
            session,
            provider=provider,
            event_id=uuid.uuid4().hex,
            event_type=payload["event"],
            payload=payload,
            headers={},
        )


def backend_waits_on_a_lock(engine, pid):
    with transaction(engine) as session:
        return session.execute(
            text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar()


def test_a_refund_racing_its_payment_is_applied_to_the_order(shop, engine, settings):
    sku = shop.product(4)
    checkout = shop.reserve(sku, 2)
    payment = f"ref-{checkout}"
    refund_row = stored(engine, "paystack", "refunded", checkout, payment)
    payment_row = stored(engine, "paystack", "succeeded", checkout, payment)

    refund = Session(engine)  # the refund's transaction stays open, as in a worker thread mid-way
    process_event(refund, refund_row, now=utcnow(), settings=settings)
    paid = {}

    def pay():
        with transaction(engine) as session:
            paid["pid"] = session.execute(text("SELECT pg_backend_pid()")).scalar()
            process_event(session, payment_row, now=utcnow(), settings=settings)

    payer = threading.Thread(target=pay)
    payer.start()
    try:
        # The payment must wait for the refund's transaction, not run past its unseen row.
        wait_for(lambda: "pid" in paid and backend_waits_on_a_lock(engine, paid["pid"]), what="payment waits")
    finally:
        refund.commit()
        refund.close()
        payer.join(timeout=30)
    order = shop.order(checkout).json
    assert order["state"] == "refunded" and order["stock_deducted"] is False
    assert shop.stock(sku)["stock"] == 4
