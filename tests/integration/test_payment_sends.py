"""The emails a payment decides are sent after its commit; when the broker is down then, each is
marked unsent so the reconciler sends it after its grace (the event is settled: a retry would not)."""

import uuid

from sqlalchemy import text

from core.clock import utcnow
from core.messages import Outgoing
from db.engine import transaction
from db.queries.outbox import close_pending
from db.queries.webhooks import store_event
from db.unit_of_work import UnitsOfWork
from services.payments import Payments
from tests.support.payloads import body


def broker_down(message: Outgoing) -> str:
    raise ConnectionError("the broker is down")


def test_emails_that_cannot_be_sent_after_commit_are_marked_unsent(shop, engine, settings):
    sku = shop.product(3)
    checkout = shop.reserve(sku, 1)
    payload = body("paystack", "succeeded", checkout_id=checkout, payment_id=f"pay-{checkout}")
    with transaction(engine) as session:
        row_id = store_event(
            session,
            provider="paystack",
            event_id=uuid.uuid4().hex,
            event_type=payload["event"],
            payload=payload,
            headers={},
        )
    assert row_id is not None
    emails = Payments(UnitsOfWork(engine, broker_down), settings, utcnow).apply_webhook_event(row_id)
    assert emails, "the paid order decided its confirmation"
    with transaction(engine) as session:
        event_state = session.execute(
            text("SELECT state FROM webhook_event WHERE id = :id"), {"id": row_id}
        ).scalar_one()
        unsent = session.execute(
            text("SELECT bool_and(last_enqueued_at = '-infinity') FROM email_outbox WHERE id = ANY(:ids)"),
            {"ids": emails},
        ).scalar_one()
    assert event_state == "processed" and unsent is True
    assert shop.order(checkout).json["state"] == "paid"
    with transaction(engine) as session:  # the tests share a database: leave nothing for a reconciler
        for outbox_id in emails:
            close_pending(session, outbox_id, "test done")
