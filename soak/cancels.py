"""Order cancellations, the storefront's way of putting stock back: the driver cancels a paid
order it paid for (sometimes twice, as a retrying client would), so the audit can check that
each restock happened exactly once, faults or not."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import requests

from soak.config import AUTH

if TYPE_CHECKING:
    from soak.load import Driver


def cancel_one(driver: Driver, s: requests.Session, rng: random.Random) -> None:
    """Cancel one paid order of an earlier checkout; the order id goes to the ledger before the
    cancel is sent, since an answer lost in a fault may still have cancelled it."""
    paid = [f for f in driver.ledger.flows[-200:] if f.reserved and f.success_acked()]
    if not paid:
        return
    flow = rng.choice(paid)
    headers = AUTH
    r = driver.call(s, "order", "GET", f"/v1/checkouts/{flow.checkout_id}/order", headers=headers)
    if r is None or r.status_code != 200:
        return
    order = r.json()
    if order["state"] != "paid" or not order["stock_deducted"]:
        return
    driver.ledger.cancel_attempted.add(order["order_id"])
    for _ in range(2 if rng.random() < 0.3 else 1):
        driver.call(s, "cancel", "POST", f"/v1/orders/{order['order_id']}/cancel", headers=headers)
