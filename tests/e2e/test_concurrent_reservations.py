"""60 storefront clients race for 10 units over HTTP against real gunicorn."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
import requests

from tests.conftest import STOREFRONT, auth

H = auth(STOREFRONT)


@pytest.mark.broker  # the web process builds its broker from BROKER_URL: on both brokers
def test_sixty_clients_ten_units_exactly_ten_win(web):
    sku = f"hot-{uuid.uuid4().hex[:8]}"
    assert (
        requests.put(
            f"{web}/v1/products/{sku}",
            json={"name": "Hot item", "stock": 10, "price": 999},
            headers=H,
            timeout=10,
        ).status_code
        == 201
    )
    barrier = Barrier(60)

    def buy(i):
        session = requests.Session()
        barrier.wait()
        return session.post(
            f"{web}/v1/checkouts/{sku}-c{i}/reservation",
            json={"email": f"buyer{i}@example.com", "items": [{"sku": sku, "quantity": 1}]},
            headers=H,
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=60) as pool:
        answers = list(pool.map(buy, range(60)))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(201) == 10, codes
    assert codes.count(409) == 50, codes
    for lost in (a for a in answers if a.status_code == 409):
        assert lost.json()["shortages"] == [{"sku": sku, "requested": 1, "available": 0}]
    product = requests.get(f"{web}/v1/products/{sku}", headers=H, timeout=10).json()
    assert product == {
        "sku": sku,
        "name": "Hot item",
        "stock": 10,
        "reserved": 10,
        "available": 0,
        "low_stock_threshold": 0,
        "price": 999,
        "currency": "USD",
    }


def test_many_clients_on_many_skus_never_oversell(web):
    skus = [f"multi-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    for sku in skus:
        requests.put(
            f"{web}/v1/products/{sku}", json={"name": sku, "stock": 5, "price": 100}, headers=H, timeout=10
        )

    def buy(i):
        # Each client wants two SKUs in different orders: locks must not deadlock.
        pair = [skus[i % 3], skus[(i + 1) % 3]] if i % 2 else [skus[(i + 1) % 3], skus[i % 3]]
        return requests.post(
            f"{web}/v1/checkouts/multi-{uuid.uuid4().hex[:8]}/reservation",
            json={"email": "b@example.com", "items": [{"sku": s, "quantity": 1} for s in pair]},
            headers=H,
            timeout=30,
        ).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        codes = list(pool.map(buy, range(30)))
    assert set(codes) <= {201, 409}
    reserved = [
        requests.get(f"{web}/v1/products/{s}", headers=H, timeout=10).json()["reserved"] for s in skus
    ]
    assert all(0 <= r <= 5 for r in reserved)
    assert sum(reserved) == 2 * codes.count(201)
