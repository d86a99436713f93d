"""Payment events through a real worker: exactly one order, stock moved once, the right emails."""

import uuid

import pytest

from tests.conftest import STOREFRONT, auth
from tests.support.waiting import wait_for

H = auth(STOREFRONT)

pytestmark = pytest.mark.broker  # make test runs these on RabbitMQ too


@pytest.mark.parametrize("provider", ["stripe", "paystack", "razorpay", "standard"])
def test_payment_becomes_one_order_one_deduction_one_email(shop, provider):
    sku = shop.product(5)
    checkout = shop.reserve(sku, 2)
    shop.post(provider, "succeeded", checkout, event_id=f"evt-{checkout}")
    shop.settled(checkout)
    order = shop.order(checkout).json
    assert order["state"] == "paid" and order["stock_deducted"] is True
    assert order["lines"] == [{"sku": sku, "quantity": 2}]
    assert order["provider"] == provider and order["amount"] == 2500
    assert shop.stock(sku) == {**shop.stock(sku), "stock": 3, "reserved": 0, "available": 3}
    emails = wait_for(lambda: shop.emails(f"order-confirmation/{order['order_id']}"), what="confirmation")
    assert len(emails) == 1
    assert emails[0].body["to"] in (["ada@example.com"], "ada@example.com")
    assert order["order_id"] in emails[0].body["subject"]


def test_the_same_payment_three_times_and_under_another_event_id_is_one_order(shop, client):
    sku = shop.product(5)
    checkout = shop.reserve(sku, 1)
    for i in range(3):
        shop.post("stripe", "succeeded", checkout, event_id=f"evt-same-{checkout}", duplicate=i > 0)
    shop.post("stripe", "succeeded", checkout)  # a second event for the same payment
    rows = shop.settled(checkout)
    assert sorted(r.state for r in rows) == ["ignored", "processed"]
    assert shop.stock(sku)["stock"] == 4
    order_id = shop.order(checkout).json["order_id"]
    wait_for(lambda: shop.emails(f"order-confirmation/{order_id}"), what="confirmation")
    assert len(shop.emails(f"order-confirmation/{order_id}")) == 1


def test_a_late_payment_re_reserves_when_stock_allows(shop):
    sku = shop.product(3)
    checkout = shop.reserve(sku, 2)
    shop.expire(checkout)
    shop.post("standard", "succeeded", checkout)
    shop.settled(checkout)
    order = shop.order(checkout).json
    assert order["state"] == "paid"
    assert shop.stock(sku)["stock"] == 1


def test_a_late_payment_without_stock_needs_attention_and_alerts_without_overselling(shop):
    sku = shop.product(2)
    late = shop.reserve(sku, 2)
    shop.expire(late)
    shop.reserve(sku, 2)  # someone else takes the units meanwhile
    shop.post("paystack", "succeeded", late)
    shop.settled(late)
    order = shop.order(late).json
    assert order["state"] == "needs_attention" and order["stock_deducted"] is False
    assert f"{sku}: paid 2, 0 available" in order["note"]
    assert shop.stock(sku)["stock"] == 2 and shop.stock(sku)["reserved"] == 2
    alert = wait_for(lambda: shop.emails(f"operator-alert/{order['order_id']}"), what="operator alert")
    assert alert[0].body["to"] in (["ops@example.com"], "ops@example.com")


def test_payment_failure_releases_the_holds_and_tells_the_customer(shop):
    sku = shop.product(2)
    checkout = shop.reserve(sku, 2)
    shop.post("razorpay", "failed", checkout)
    shop.settled(checkout)
    assert shop.stock(sku)["available"] == 2
    assert shop.order(checkout).status_code == 404
    wait_for(lambda: shop.emails("payment-failed/razorpay/"), what="payment failed email")


def test_a_failure_after_success_never_undoes_the_order(shop):
    sku = shop.product(2)
    checkout = shop.reserve(sku, 1)
    shop.post("stripe", "succeeded", checkout)
    shop.settled(checkout)
    shop.post("stripe", "failed", checkout)
    rows = shop.settled(checkout)
    assert rows[-1].state == "ignored" and "already succeeded" in rows[-1].note
    assert shop.order(checkout).json["state"] == "paid"
    assert shop.stock(sku)["stock"] == 1


def test_a_refund_marks_the_order_refunded_and_restocks_once(shop):
    sku = shop.product(4)
    checkout = shop.reserve(sku, 3)
    shop.post("razorpay", "succeeded", checkout)
    shop.settled(checkout)
    assert shop.stock(sku)["stock"] == 1
    shop.post("razorpay", "refunded", checkout, event_id="r1")
    # The same refund again (a provider retry, even under a new event id header) is one refund.
    shop.post("razorpay", "refunded", checkout, event_id="r1", duplicate=True)
    rows = shop.settled(checkout)
    assert [r.state for r in rows] == ["processed", "processed"]
    assert shop.order(checkout).json["state"] == "refunded"
    assert shop.stock(sku)["stock"] == 4


def test_cancel_restocks_once_and_is_idempotent(shop, client):
    sku = shop.product(3)
    checkout = shop.reserve(sku, 2)
    shop.post("stripe", "succeeded", checkout)
    shop.settled(checkout)
    order_id = shop.order(checkout).json["order_id"]
    first = client.simulate_post(f"/v1/orders/{order_id}/cancel", headers=H)
    again = client.simulate_post(f"/v1/orders/{order_id}/cancel", headers=H)
    assert first.status_code == again.status_code == 200
    assert first.json["state"] == "cancelled"
    assert shop.stock(sku)["stock"] == 3
    # A refund after the cancel does not restock a second time.
    shop.post("stripe", "refunded", checkout)
    shop.settled(checkout)
    assert shop.stock(sku)["stock"] == 3


def test_cancel_of_a_refunded_order_is_409_and_unknown_is_404(shop, client):
    sku = shop.product(1)
    checkout = shop.reserve(sku, 1)
    shop.post("paystack", "succeeded", checkout)
    shop.settled(checkout)
    shop.post("paystack", "refunded", checkout)
    shop.settled(checkout)
    order_id = shop.order(checkout).json["order_id"]
    assert client.simulate_post(f"/v1/orders/{order_id}/cancel", headers=H).status_code == 409
    assert client.simulate_post("/v1/orders/ord_nope/cancel", headers=H).status_code == 404
    assert client.simulate_get(f"/v1/orders/{order_id}", headers=H).json["state"] == "refunded"


def test_other_event_types_and_failures_for_unknown_checkouts_are_kept_as_ignored(shop):
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    shop.post("standard", "failed", ghost)
    shop.post("stripe", "other", ghost)
    rows = shop.settled(ghost)
    notes = sorted(r.note for r in rows)
    assert all(r.state == "ignored" for r in rows)
    assert any("unknown checkout" in n for n in notes) and any("not acted on" in n for n in notes)
