"""Money through the real API and worker: a payment completes an order only if it covers what the
checkout owes; a successful payment is never dropped; refunds add up, whenever they arrive."""

import uuid

import pytest
from sqlalchemy import text

from db.engine import transaction
from db.queries.payments import payments_needing_attention
from tests.conftest import STOREFRONT, auth
from tests.support.waiting import wait_for

H = auth(STOREFRONT)

pytestmark = pytest.mark.broker  # make test runs these on RabbitMQ too


def issues(engine, state=None):
    with transaction(engine) as session:
        return payments_needing_attention(session, state, limit=500)


def test_an_underpaid_order_needs_attention_takes_no_stock_and_alerts_once(shop, engine):
    sku = shop.product(3, price=5000)
    checkout = shop.reserve(sku, 1)
    shop.post("stripe", "succeeded", checkout, amount=100)
    shop.post("stripe", "succeeded", checkout, amount=100)  # another event for the same payment
    shop.settled(checkout)
    order = shop.order(checkout).json
    assert order["state"] == "needs_attention" and order["stock_deducted"] is False
    assert order["note"] == "paid 100 USD, owed 5000 USD"
    assert shop.stock(sku) == {**shop.stock(sku), "stock": 3, "reserved": 0}
    alerts = wait_for(lambda: shop.emails(f"operator-alert/{order['order_id']}"), what="operator alert")
    assert len(alerts) == 1 and not shop.emails(f"order-confirmation/{order['order_id']}")
    listed = [i for i in issues(engine, "needs_attention") if i.id == order["order_id"]]
    assert [(i.paid_amount, i.owed_amount, i.owed_currency) for i in listed] == [(100, 5000, "USD")]


def test_a_payment_in_another_currency_does_not_complete_the_order(shop):
    sku = shop.product(3, price=2500)
    checkout = shop.reserve(sku, 1)
    shop.post("paystack", "succeeded", checkout, amount=2500, currency="ngn")
    shop.settled(checkout)
    order = shop.order(checkout).json
    assert order["state"] == "needs_attention"
    assert order["note"] == "paid 2500 NGN, owed 2500 USD"
    assert shop.stock(sku)["stock"] == 3


def test_a_payment_of_at_least_the_amount_owed_completes_the_order(shop):
    sku = shop.product(3, price=1250)
    checkout = shop.reserve(sku, 2)
    shop.post("razorpay", "succeeded", checkout, amount=2500, currency="usd")
    shop.settled(checkout)
    assert shop.order(checkout).json["state"] == "paid"
    assert shop.stock(sku)["stock"] == 1


def test_a_success_after_a_failed_attempt_on_the_same_payment_becomes_the_order(shop):
    """Stripe's usual flow: the card is declined, the customer retries on the same PaymentIntent."""
    sku = shop.product(2)
    checkout = shop.reserve(sku, 2)
    shop.post("stripe", "failed", checkout)
    shop.settled(checkout)
    assert shop.stock(sku)["reserved"] == 0  # the failure released the holds
    shop.post("stripe", "succeeded", checkout)
    shop.settled(checkout)
    order = shop.order(checkout).json
    assert order["state"] == "paid" and order["stock_deducted"] is True
    assert shop.stock(sku)["stock"] == 0
    wait_for(lambda: shop.emails(f"order-confirmation/{order['order_id']}"), what="confirmation")


def test_a_success_after_the_reservation_was_released_re_reserves_or_needs_attention(shop, client):
    sku = shop.product(2)
    fits, short = shop.reserve(sku, 1), shop.reserve(sku, 1)
    for checkout in (fits, short):
        assert client.simulate_delete(f"/v1/checkouts/{checkout}/reservation", headers=H).status_code == 200
    shop.post("standard", "succeeded", fits)
    shop.settled(fits)
    assert shop.order(fits).json["state"] == "paid"
    shop.reserve(sku, 1)  # the last unit goes to someone else
    shop.post("standard", "succeeded", short)
    shop.settled(short)
    order = shop.order(short).json
    assert order["state"] == "needs_attention" and f"{sku}: paid 1, 0 available" in order["note"]
    assert shop.stock(sku)["stock"] == 1 and shop.stock(sku)["reserved"] == 1  # nothing oversold
    wait_for(lambda: shop.emails(f"operator-alert/{order['order_id']}"), what="operator alert")


def test_a_success_for_an_unknown_checkout_is_kept_as_unmatched_with_one_alert(shop, engine):
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    shop.post("paystack", "succeeded", ghost, payment=f"ref-{ghost}")
    shop.post("paystack", "succeeded", ghost, payment=f"ref-{ghost}")  # another event, same payment
    rows = shop.settled(ghost)
    assert sorted(r.state for r in rows) == ["ignored", "processed"]
    kept = [i for i in issues(engine, "unmatched") if i.payment_id == f"ref-{ghost}"]
    assert len(kept) == 1 and kept[0].paid_amount == 2500 and f"no checkout '{ghost}'" in kept[0].reason
    alerts = wait_for(lambda: shop.emails(f"operator-alert/unmatched/paystack/ref-{ghost}"), what="alert")
    assert len(alerts) == 1


def test_a_second_payment_for_a_paid_checkout_is_kept_for_a_refund(shop, engine):
    sku = shop.product(5)
    checkout = shop.reserve(sku, 1)
    shop.post("stripe", "succeeded", checkout, payment=f"pi-a-{checkout}")
    shop.settled(checkout)
    shop.post("stripe", "succeeded", checkout, payment=f"pi-b-{checkout}")
    shop.settled(checkout)
    assert shop.stock(sku)["stock"] == 4  # one order, one deduction
    kept = [i for i in issues(engine, "unmatched") if i.payment_id == f"pi-b-{checkout}"]
    assert len(kept) == 1 and f"already paid by pi-a-{checkout}" in kept[0].reason


def test_partial_refunds_add_up_to_a_refunded_order_restocked_once(shop):
    sku = shop.product(4, price=1250)
    checkout = shop.reserve(sku, 2)
    shop.post("paystack", "succeeded", checkout)
    shop.settled(checkout)
    shop.post("paystack", "refunded", checkout, amount=1000)
    shop.settled(checkout)
    order = shop.order(checkout).json
    assert order["state"] == "paid" and "refunded 1000 USD of 2500 USD" in order["note"]
    assert shop.stock(sku)["stock"] == 2
    shop.post("paystack", "refunded", checkout, amount=1500)
    shop.settled(checkout)
    assert shop.order(checkout).json["state"] == "refunded"
    assert shop.stock(sku)["stock"] == 4
    shop.post("paystack", "refunded", checkout, amount=500)  # more refunds never restock twice
    shop.settled(checkout)
    assert shop.stock(sku)["stock"] == 4


def test_stripe_running_refund_totals_are_not_added_twice(shop):
    sku = shop.product(4, price=1250)
    checkout = shop.reserve(sku, 2)
    shop.post("stripe", "succeeded", checkout)
    shop.settled(checkout)
    shop.post("stripe", "refunded", checkout, amount=1000)  # amount_refunded: 1000 so far
    shop.settled(checkout)
    shop.post("stripe", "refunded", checkout, amount=1400)  # 1400 so far: not 2400
    shop.settled(checkout)
    assert shop.order(checkout).json["state"] == "paid"
    shop.post("stripe", "refunded", checkout, amount=2500)
    shop.settled(checkout)
    assert shop.order(checkout).json["state"] == "refunded"
    assert shop.stock(sku)["stock"] == 4


def test_a_refund_that_arrives_before_its_payment_is_applied_when_the_order_appears(shop, engine):
    sku = shop.product(3)
    checkout = shop.reserve(sku, 2)
    shop.post("razorpay", "refunded", checkout)
    rows = shop.settled(checkout)
    assert rows[0].note == "refund kept: no order for this payment yet"
    shop.post("razorpay", "succeeded", checkout)
    shop.settled(checkout)
    order = shop.order(checkout).json
    assert order["state"] == "refunded" and order["stock_deducted"] is False
    assert shop.stock(sku)["stock"] == 3
    with transaction(engine) as session:
        linked = session.execute(
            text("SELECT order_id FROM payment_refund WHERE payment_id = :p"), {"p": f"pay-{checkout}"}
        ).scalar_one()
    assert linked == order["order_id"]


def test_one_razorpay_body_sent_with_three_forged_event_ids_is_one_event(shop, engine, client):
    sku = shop.product(5)
    checkout = shop.reserve(sku, 1)
    raw, headers = shop.post("razorpay", "succeeded", checkout)
    for forged in ("forged-1", "forged-2", "forged-3"):
        replay = client.simulate_post(
            "/v1/webhooks/razorpay", body=raw, headers={**headers, "X-Razorpay-Event-Id": forged}
        )
        assert replay.status_code == 200 and replay.json["duplicate"] is True
    assert len(shop.settled(checkout)) == 1
    assert shop.stock(sku)["stock"] == 4
    order_id = shop.order(checkout).json["order_id"]
    wait_for(lambda: shop.emails(f"order-confirmation/{order_id}"), what="confirmation")
    assert len(shop.emails(f"order-confirmation/{order_id}")) == 1


def test_a_partial_refund_of_an_order_needing_attention_keeps_why_it_stopped(shop):
    sku = shop.product(3, price=5000)
    checkout = shop.reserve(sku, 1)
    shop.post("paystack", "succeeded", checkout, amount=100)
    shop.settled(checkout)
    shop.post("paystack", "refunded", checkout, amount=40)
    shop.settled(checkout)
    note = shop.order(checkout).json["note"]
    assert note == "paid 100 USD, owed 5000 USD; refunded 40 USD of 100 USD; stock unchanged"
