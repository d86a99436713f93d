"""Payment events through a real worker: exactly one order, stock moved once, the right emails."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from db.engine import transaction
from tests.conftest import STOREFRONT, auth
from tests.support.payloads import body, signed
from tests.support.waiting import wait_for

H = auth(STOREFRONT)


@pytest.fixture
def shop(client, engine, worker, resend_server):
    class Shop:
        def product(self, stock):
            sku = f"sku-{uuid.uuid4().hex[:10]}"
            client.simulate_put(
                f"/v1/products/{sku}", json={"name": f"Item {sku}", "stock": stock}, headers=H
            )
            return sku

        def reserve(self, sku, qty=1, checkout=None):
            checkout = checkout or f"co-{uuid.uuid4().hex[:10]}"
            answer = client.simulate_post(
                f"/v1/checkouts/{checkout}/reservation",
                json={"email": "ada@example.com", "items": [{"sku": sku, "quantity": qty}]},
                headers=H,
            )
            assert answer.status_code == 201, answer.json
            return checkout

        def post(self, provider, kind, checkout, payment=None, event_id=None, **extra):
            payment = payment or f"pay-{checkout}"
            payload = body(
                provider, kind, checkout_id=checkout, payment_id=payment, event_id=event_id, **extra
            )
            raw, headers = signed(provider, payload, event_id=event_id)
            answer = client.simulate_post(f"/v1/webhooks/{provider}", body=raw, headers=headers)
            assert answer.status_code == 200, answer.text
            return raw, headers

        def settled(self, checkout_or_payment):
            def done():
                with transaction(engine) as s:
                    rows = s.execute(
                        text("SELECT state, note FROM webhook_event WHERE payload::text LIKE :m ORDER BY id"),
                        {"m": f"%{checkout_or_payment}%"},
                    ).all()
                return rows if rows and all(r.state != "received" for r in rows) else None

            return wait_for(done, what=f"events for {checkout_or_payment} to settle")

        def stock(self, sku):
            return client.simulate_get(f"/v1/products/{sku}", headers=H).json

        def order(self, checkout):
            return client.simulate_get(f"/v1/checkouts/{checkout}/order", headers=H)

        def emails(self, key_prefix):
            return [e for e in resend_server.emails if (e.idempotency_key or "").startswith(key_prefix)]

        def expire(self, checkout):
            with transaction(engine) as s:
                s.execute(
                    text("UPDATE reservation SET expires_at = :t WHERE checkout_id = :c"),
                    {"t": datetime.now(UTC) - timedelta(seconds=1), "c": checkout},
                )

    return Shop()


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
    for _ in range(3):
        shop.post("stripe", "succeeded", checkout, event_id=f"evt-same-{checkout}")
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
    shop.post("razorpay", "refunded", checkout)
    shop.post("razorpay", "refunded", checkout)  # a second refund event changes nothing
    rows = shop.settled(checkout)
    # The payment, then two refund events in whichever order the worker threads took them.
    assert rows[0].state == "processed" and sorted(r.state for r in rows[1:]) == ["ignored", "processed"]
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


def test_events_for_unknown_checkouts_and_other_types_are_kept_as_ignored(shop):
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    shop.post("standard", "succeeded", ghost)
    shop.post("stripe", "other", ghost)
    rows = shop.settled(ghost)
    notes = sorted(r.note for r in rows)
    assert all(r.state == "ignored" for r in rows)
    assert any("unknown checkout" in n for n in notes) and any("not acted on" in n for n in notes)
