"""What a checkout owes is fixed at reservation: priced lines, one currency, no unpriced products."""

import uuid

from sqlalchemy import text

from db.engine import transaction
from tests.support.factories import H, new_checkout_id, product, put_product, reserve


def owed(engine, checkout):
    with transaction(engine) as session:
        row = session.execute(
            text("SELECT amount, currency FROM checkout WHERE checkout_id = :id"), {"id": checkout}
        ).one_or_none()
    return tuple(row) if row else None


def test_the_reservation_answers_and_stores_what_the_checkout_owes(client, engine):
    mug, pot = put_product(client, price=1250), put_product(client, price=399, currency="usd")
    checkout = new_checkout_id()
    answer = reserve(client, checkout, [(mug, 2), (pot, 3)])
    assert answer.status_code == 201
    assert (answer.json["amount"], answer.json["currency"]) == (2 * 1250 + 3 * 399, "USD")
    assert owed(engine, checkout) == (3697, "USD")


def test_a_later_price_change_does_not_change_what_the_checkout_owes(client, engine):
    sku = put_product(client, price=1000)
    checkout = new_checkout_id()
    assert reserve(client, checkout, [(sku, 2)]).json["amount"] == 2000
    client.simulate_put(f"/v1/products/{sku}", json={"name": "x", "stock": 10, "price": 5}, headers=H)
    repeat = reserve(client, checkout, [(sku, 2)])
    assert repeat.status_code == 201 and repeat.headers.get("Idempotent-Replayed") == "true"
    assert repeat.json["amount"] == 2000
    assert owed(engine, checkout) == (2000, "USD")
    # A different basket is a new reservation at today's prices.
    assert reserve(client, checkout, [(sku, 3)]).json["amount"] == 15


def test_lines_in_two_currencies_are_refused_and_change_nothing(client, engine):
    usd, eur = put_product(client, price=100), put_product(client, price=100, currency="EUR")
    checkout = new_checkout_id()
    answer = reserve(client, checkout, [(usd, 1), (eur, 1)])
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json["type"].endswith("/mixed-currency")
    assert answer.json["errors"][0]["field"] == "items"
    assert owed(engine, checkout) is None
    for sku in (usd, eur):
        assert product(client, sku)["reserved"] == 0


def test_a_product_stored_before_prices_cannot_be_reserved_until_it_has_one(client, engine):
    sku = f"legacy-{uuid.uuid4().hex[:8]}"
    with transaction(engine) as session:  # as the migration leaves a product stored before prices
        session.execute(text("INSERT INTO product (sku, name, stock) VALUES (:s, 'Old', 5)"), {"s": sku})
    got = product(client, sku)
    assert (got["price"], got["currency"]) == (None, None)
    checkout = new_checkout_id()
    answer = reserve(client, checkout, [(sku, 1)])
    assert answer.status_code == 409
    assert answer.json["type"].endswith("/product-unpriced")
    assert answer.json["skus"] == [sku]
    assert product(client, sku)["reserved"] == 0
    client.simulate_put(f"/v1/products/{sku}", json={"name": "Old", "stock": 5, "price": 700}, headers=H)
    assert reserve(client, checkout, [(sku, 1)]).json["amount"] == 700
