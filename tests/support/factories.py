"""One shared set of storefront factories for tests: products and reservations through the API,
and the stock services for tests that call a use case directly (no HTTP)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import falcon.testing
from sqlalchemy import Engine

from core.clock import utcnow
from core.messages import Outgoing
from core.settings import Settings
from db.unit_of_work import UnitsOfWork
from services.products import Products
from services.reservations import Reservations
from tests.conftest import STOREFRONT, auth

H = auth(STOREFRONT)
Client = falcon.testing.TestClient


def new_sku(prefix: str = "sku") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new_checkout_id() -> str:
    return f"co-{uuid.uuid4().hex[:12]}"


# Through the API, as the storefront calls it.


def put_product(
    client: Client,
    stock: int = 10,
    *,
    price: int = 100,
    currency: str | None = None,
    sku: str | None = None,
    name: str | None = None,
) -> str:
    """PUT a new product (named after its SKU unless `name`); its SKU. Asserts it was created."""
    sku = sku or new_sku()
    body = {
        "name": name or sku,
        "stock": stock,
        "price": price,
        **({"currency": currency} if currency else {}),
    }
    answer = client.simulate_put(f"/v1/products/{sku}", json=body, headers=H)
    assert answer.status_code == 201, answer.json
    return sku


def reserve(
    client: Client,
    checkout: str,
    items: Iterable[tuple[str, int]],
    *,
    email: str = "shopper@example.com",
    **extra: Any,
) -> falcon.testing.Result:
    """POST a reservation of `items` as (sku, quantity) pairs; the answer, whatever it is."""
    body = {"email": email, "items": [{"sku": s, "quantity": q} for s, q in items], **extra}
    return client.simulate_post(f"/v1/checkouts/{checkout}/reservation", json=body, headers=H)


def product(client: Client, sku: str) -> Any:
    """GET the product's JSON (stock, reserved, available, price...)."""
    return client.simulate_get(f"/v1/products/{sku}", headers=H).json


# The services, for tests that drive a use case without HTTP.


def _no_messages(message: Outgoing) -> str:
    raise AssertionError(f"the stock use cases send no message, not {message.actor_name}")


def units(engine: Engine) -> UnitsOfWork:
    return UnitsOfWork(engine, _no_messages)


def products_service(engine: Engine, settings: Settings, now: Callable[[], datetime] = utcnow) -> Products:
    return Products(units(engine), settings, now)


def reservations_service(
    engine: Engine, settings: Settings, now: Callable[[], datetime] = utcnow, **overrides: Any
) -> Reservations:
    """`overrides` change settings (e.g. `reservation_ttl_seconds`, `stock_cleanup_batch_size`)."""
    return Reservations(units(engine), settings.model_copy(update=overrides), now)


def store_product(
    engine: Engine, settings: Settings, stock: int, *, sku: str | None = None, price: int = 100
) -> str:
    """A product put through the service (no HTTP), priced in USD; its SKU."""
    sku = sku or new_sku()
    products_service(engine, settings).put_product(
        sku, name=sku, stock=stock, low_stock_threshold=0, price=price, currency="USD"
    )
    return sku
