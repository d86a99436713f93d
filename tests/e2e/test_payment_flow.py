"""The storefront's path through real processes: reserve, pay three times, one order, one email."""

import uuid

import pytest
import requests

from tests.conftest import STOREFRONT, auth
from tests.e2e.conftest import free_port, process_env, wait_http
from tests.support.payloads import body, signed
from tests.support.waiting import wait_for

H = auth(STOREFRONT)


@pytest.mark.broker
def test_a_signed_payment_posted_three_times_is_one_order_one_deduction_one_email(
    settings, start_process, resend_server
):
    env = process_env(settings, PORT=str(free_port()), WEB_CONCURRENCY="2")
    web = start_process("web", env)
    start_process("worker-webhooks", env)
    start_process("worker-email", env)
    base = f"http://127.0.0.1:{env['PORT']}"
    wait_http(f"{base}/ready", web)

    sku, checkout = f"e2e-{uuid.uuid4().hex[:8]}", f"co-{uuid.uuid4().hex[:8]}"
    assert (
        requests.put(
            f"{base}/v1/products/{sku}",
            json={"name": "Teapot", "stock": 4, "price": 500},
            headers=H,
            timeout=10,
        ).status_code
        == 201
    )
    reserved = requests.post(
        f"{base}/v1/checkouts/{checkout}/reservation",
        headers=H,
        timeout=10,
        json={"email": "ada@example.com", "items": [{"sku": sku, "quantity": 3}]},
    )
    assert reserved.status_code == 201

    payload = body(
        "stripe",
        "succeeded",
        checkout_id=checkout,
        payment_id=f"pi_{checkout}",
        amount=4200,
        event_id=f"e2e{checkout}",
    )
    raw, headers = signed("stripe", payload)
    answers = [
        requests.post(f"{base}/v1/webhooks/stripe", data=raw, headers=headers, timeout=10) for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["duplicate"] for a in answers] == [False, True, True]

    def order():
        answer = requests.get(f"{base}/v1/checkouts/{checkout}/order", headers=H, timeout=10)
        return answer.json() if answer.status_code == 200 else None

    placed = wait_for(order, timeout=60, what="the order")
    assert placed["state"] == "paid" and placed["lines"] == [{"sku": sku, "quantity": 3}]
    product = requests.get(f"{base}/v1/products/{sku}", headers=H, timeout=10).json()
    assert (product["stock"], product["reserved"], product["available"]) == (1, 0, 1)

    key = f"order-confirmation/{placed['order_id']}"
    emails = wait_for(
        lambda: [e for e in resend_server.emails if e.idempotency_key == key],
        timeout=60,
        what="the confirmation email",
    )
    assert len(emails) == 1
    assert emails[0].headers["idempotency-key"] == key
    assert "42.00 USD" in emails[0].body["text"]
