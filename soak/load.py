"""The steady load: a few threads, each paced to a fixed rate, doing what a storefront and four
payment providers do. Every answer goes to the ledger; a webhook is sent again, as providers do,
until it is acknowledged (2xx) or two minutes have passed."""

from __future__ import annotations

import random
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from soak.cancels import cancel_one
from soak.config import AUTH
from soak.ledger import Flow, Ledger, Webhook
from tests.support.payloads import body, signed

HOT = [f"soak-hot-{n}" for n in range(3)]
COLD = [f"soak-cold-{n:02d}" for n in range(40)]
PROVIDERS = ("stripe", "paystack", "razorpay", "standard")
VARIANTS = {"normal": 5, "duplicate": 2, "failed-then-succeeded": 2, "out-of-order": 2, "unknown-checkout": 1}
ACTIONS = {"checkout": 6, "cart": 3, "subscription": 1, "cancel": 1}


def stock_of(sku: str) -> int:
    return 60 if sku in HOT else 25


class Driver:
    def __init__(self, base: str, ledger: Ledger, rate: float) -> None:
        self.base, self.ledger, self.interval = base, ledger, 1.0 / rate
        self.stop = threading.Event()

    def seed_products(self) -> None:
        with requests.Session() as s:
            for sku in HOT + COLD:
                product: dict[str, Any] = {"name": sku, "stock": stock_of(sku), "price": 1000}
                s.put(
                    f"{self.base}/v1/products/{sku}", json=product, headers=AUTH, timeout=10
                ).raise_for_status()

    def call(
        self, s: requests.Session, kind: str, method: str, path: str, **kw: object
    ) -> requests.Response | None:
        try:
            r = s.request(method, f"{self.base}{path}", timeout=10, **kw)  # type: ignore[arg-type]
        except requests.RequestException:
            self.ledger.answer(kind, 0)
            return None
        self.ledger.answer(kind, r.status_code, "Retry-After" in r.headers)
        return r

    def run(self, seed: int) -> None:
        rng, s = random.Random(seed), requests.Session()
        actions = {
            "checkout": self.checkout,
            "cart": self.cart,
            "subscription": self.subscription,
            "cancel": lambda s, rng: cancel_one(self, s, rng),
        }
        while not self.stop.is_set():
            started = time.monotonic()
            name = rng.choices(list(ACTIONS), list(ACTIONS.values()))[0]
            actions[name](s, rng)
            self.stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def checkout(self, s: requests.Session, rng: random.Random) -> None:
        checkout_id = f"soak-c-{uuid.uuid4().hex[:12]}"
        variant = rng.choices(list(VARIANTS), list(VARIANTS.values()))[0]
        amount, reserved = 1000, False
        if variant != "unknown-checkout":
            sku = rng.choice(HOT) if rng.random() < 0.5 else rng.choice(COLD)
            items = [{"sku": sku, "quantity": rng.randint(1, 2)}]
            r = self.call(
                s,
                "reservation",
                "POST",
                f"/v1/checkouts/{checkout_id}/reservation",
                json={"email": "soak@example.com", "items": items},
                headers=AUTH,
            )
            if r is None or r.status_code != 201:
                self.ledger.flow(Flow(checkout_id, variant, False))
                return
            amount, reserved = int(r.json()["amount"]), True
        provider, payment_id = rng.choice(PROVIDERS), f"pay_{uuid.uuid4().hex[:14]}"
        flow = Flow(checkout_id, variant, reserved)
        kinds = {"failed-then-succeeded": ["failed", "succeeded"], "out-of-order": ["succeeded", "failed"]}
        for kind in kinds.get(variant, ["succeeded"]):
            payload = body(provider, kind, checkout_id=checkout_id, payment_id=payment_id, amount=amount)
            raw, headers = signed(provider, payload)
            copies = 2 if variant == "duplicate" else 1
            for _copy in range(copies):
                hook = Webhook(provider, kind, checkout_id, payment_id)
                hook.acked = self.deliver(s, provider, raw, headers)
                flow.webhooks.append(hook)
        self.ledger.flow(flow)

    def deliver(self, s: requests.Session, provider: str, raw: bytes, headers: dict[str, str]) -> bool:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            r = self.call(s, "webhook", "POST", f"/v1/webhooks/{provider}", data=raw, headers=headers)
            if r is not None and 200 <= r.status_code < 300:
                return True
            if r is not None and r.status_code < 500 and r.status_code != 429:
                return False  # a 4xx is final: the provider would not send it again
            time.sleep(1.0)
        return False

    def cart(self, s: requests.Session, rng: random.Random) -> None:
        cart_id = rng.choice(sorted(self.ledger.carts)) if self.ledger.carts and rng.random() < 0.5 else None
        cart_id = cart_id or f"soak-cart-{uuid.uuid4().hex[:12]}"
        items = [{"sku": rng.choice(COLD), "quantity": rng.randint(1, 3)}]
        r = self.call(
            s,
            "cart",
            "PUT",
            f"/v1/carts/{cart_id}",
            json={"items": items, "email": "soak@example.com"},
            headers=AUTH,
        )
        if r is not None and r.status_code in (200, 201):
            self.ledger.carts.add(cart_id)

    def subscription(self, s: requests.Session, rng: random.Random) -> None:
        subscription_id = f"soak-sub-{uuid.uuid4().hex[:12]}"
        end = datetime.now(UTC) + timedelta(seconds=rng.randint(5, 20))
        values = {
            "email": "soak@example.com",
            "plan": "premium-monthly",
            "amount": 1299,
            "currency": "usd",
            "interval": "month",
            "current_period_end": end.isoformat(),
            "gateway": "fake",
            "customer_ref": "cus_soak",
            "payment_method_ref": "pm_fake_ok",
        }
        r = self.call(
            s, "subscription", "PUT", f"/v1/subscriptions/{subscription_id}", json=values, headers=AUTH
        )
        if r is not None and r.status_code in (200, 201):
            self.ledger.subscription(subscription_id, end.timestamp())
