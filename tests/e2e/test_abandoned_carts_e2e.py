"""Abandoned carts through the Procfile's processes (web, two worker-carts, worker-email) with
ABANDONED_CART_STEPS=2s,4s: step 1 then step 2, nothing after conversion or unsubscribing, and one
email a step although every run of the job is sent twice at once."""

import threading
import time
import uuid
from urllib.parse import urlsplit

import requests

from tests.conftest import CRON, STOREFRONT, auth
from tests.e2e.conftest import free_port, process_env, wait_http
from tests.support.waiting import wait_for

H = auth(STOREFRONT)


def test_a_cart_sequence_over_short_steps(settings, start_process, resend_server):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = process_env(
        settings, PORT=str(port), WEB_CONCURRENCY="2", ABANDONED_CART_STEPS="2s,4s", PUBLIC_BASE_URL=base
    )
    web = start_process("web", env)
    for _ in range(2):
        start_process("worker-carts", env)
    start_process("worker-email", env)
    wait_http(f"{base}/ready", web)

    sku = f"e2e-{uuid.uuid4().hex[:8]}"
    product = {"name": "Teapot", "stock": 9, "price": 1500}
    assert requests.put(f"{base}/v1/products/{sku}", json=product, headers=H, timeout=10).status_code == 201
    tag = uuid.uuid4().hex[:8]
    carts = {name: f"cart-{name}-{tag}" for name in ("kept", "converted", "unsubscribed")}
    for cart_id in carts.values():
        body = {"email": "ada@example.com", "marketing_consent": True, "items": [{"sku": sku, "quantity": 2}]}
        assert requests.put(f"{base}/v1/carts/{cart_id}", json=body, headers=H, timeout=10).status_code == 201

    def run_twice_at_once():
        """Two runs of the job enqueued together: the two worker-carts processes take one each."""
        answers = []
        threads = [
            threading.Thread(
                target=lambda: answers.append(
                    requests.post(f"{base}/v1/jobs/abandoned-carts/run", headers=auth(CRON), timeout=10)
                )
            )
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [a.status_code for a in answers] == [202, 202]

    def emails(cart_id):
        prefix = f"abandoned-cart/{cart_id}/"
        return sorted(
            e.idempotency_key for e in resend_server.emails if (e.idempotency_key or "").startswith(prefix)
        )

    def ticking_until(condition, what, timeout=30):
        def tick():
            run_twice_at_once()
            time.sleep(0.3)
            return condition()

        return wait_for(tick, timeout=timeout, interval=0.2, what=what)

    # Step 1 for all three once they are idle 2 s.
    ticking_until(lambda: all(emails(c) for c in carts.values()), "step 1 of every cart")
    assert all(emails(c) == [f"abandoned-cart/{c}/1/1"] for c in carts.values())
    (first,) = [e for e in resend_server.emails if e.idempotency_key == f"abandoned-cart/{carts['kept']}/1/1"]
    assert "2 x Teapot at 15.00 USD each" in first.body["text"]
    assert first.body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # No run meanwhile: one cart reaches checkout, one customer clicks the email's one-click link.
    reserved = requests.post(
        f"{base}/v1/checkouts/co-{tag}/reservation",
        json={
            "email": "ada@example.com",
            "items": [{"sku": sku, "quantity": 2}],
            "cart_id": carts["converted"],
        },
        headers=H,
        timeout=10,
    )
    assert reserved.status_code == 201
    (to_unsubscribe,) = [
        e for e in resend_server.emails if e.idempotency_key == f"abandoned-cart/{carts['unsubscribed']}/1/1"
    ]
    link = to_unsubscribe.body["headers"]["List-Unsubscribe"].strip("<>")
    assert urlsplit(link).netloc == f"127.0.0.1:{port}"
    one_click = requests.post(
        link,
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert one_click.status_code == 200

    def state(name):
        return requests.get(f"{base}/v1/carts/{carts[name]}", headers=H, timeout=10).json()["state"]

    assert (state("kept"), state("converted"), state("unsubscribed")) == (
        "active",
        "converted",
        "unsubscribed",
    )

    # Step 2 for the cart left alone; then runs go on for a few seconds and send nothing more.
    ticking_until(lambda: len(emails(carts["kept"])) == 2, "step 2 of the kept cart")
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        run_twice_at_once()
        time.sleep(0.3)

    # What the runs queued is in each cart's view: wait until none of it is still pending.
    def settled_views():
        views = {
            n: requests.get(f"{base}/v1/carts/{c}", headers=H, timeout=10).json() for n, c in carts.items()
        }
        return all(e["state"] != "pending" for v in views.values() for e in v["emails"]) and views

    views = wait_for(settled_views, timeout=20, what="the queued reminders settled")
    assert [(e["step"], e["state"]) for e in views["kept"]["emails"]] == [(1, "sent"), (2, "sent")]
    assert [(e["step"], e["state"]) for e in views["converted"]["emails"]] == [(1, "sent")]
    assert [(e["step"], e["state"]) for e in views["unsubscribed"]["emails"]] == [(1, "sent")]
    assert emails(carts["kept"]) == [
        f"abandoned-cart/{carts['kept']}/1/1",
        f"abandoned-cart/{carts['kept']}/1/2",
    ]
    assert emails(carts["converted"]) == [f"abandoned-cart/{carts['converted']}/1/1"]
    assert emails(carts["unsubscribed"]) == [f"abandoned-cart/{carts['unsubscribed']}/1/1"]
