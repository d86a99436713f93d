import pytest

from tests.conftest import ADMIN, STOREFRONT, auth
from tests.support.factories import H


def test_put_creates_then_replaces_and_get_shows_availability(client, sku):
    created = client.simulate_put(
        f"/v1/products/{sku}", json={"name": "Mug", "stock": 5, "price": 1200}, headers=H
    )
    assert created.status_code == 201
    replaced = client.simulate_put(
        f"/v1/products/{sku}",
        json={"name": "Big mug", "stock": 7, "low_stock_threshold": 2, "price": 1500, "currency": "eur"},
        headers=H,
    )
    assert replaced.status_code == 200
    got = client.simulate_get(f"/v1/products/{sku}", headers=H)
    assert got.json == {
        "sku": sku,
        "name": "Big mug",
        "stock": 7,
        "reserved": 0,
        "available": 7,
        "low_stock_threshold": 2,
        "price": 1500,
        "currency": "EUR",
    }


def test_currency_defaults_to_the_store_currency(client, sku):
    answer = client.simulate_put(
        f"/v1/products/{sku}", json={"name": "Mug", "stock": 1, "price": 0}, headers=H
    )
    assert answer.status_code == 201
    assert (answer.json["price"], answer.json["currency"]) == (0, "USD")


def test_unknown_product_is_a_404_problem(client, sku):
    got = client.simulate_get(f"/v1/products/{sku}", headers=H)
    assert got.status_code == 404
    assert got.headers["content-type"] == "application/problem+json"
    assert got.json["type"].endswith("/product-not-found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Mug", "stock": -1, "price": 1}, "stock"),
        ({"name": "Mug", "stock": "5", "price": 1}, "stock"),
        ({"name": "Mug", "stock": 1.5, "price": 1}, "stock"),
        ({"name": "", "stock": 1, "price": 1}, "name"),
        ({"stock": 1, "price": 1}, "name"),
        ({"name": "Mug", "stock": 10**12, "price": 1}, "stock"),
        ({"name": "Mug", "stock": 1, "low_stock_threshold": -3, "price": 1}, "low_stock_threshold"),
        ({"name": "Mug", "stock": 1, "colour": "red", "price": 1}, "colour"),
        ({"name": "Mug", "stock": 1}, "price"),
        ({"name": "Mug", "stock": 1, "price": -1}, "price"),
        ({"name": "Mug", "stock": 1, "price": 12.5}, "price"),
        ({"name": "Mug", "stock": 1, "price": "12"}, "price"),
        ({"name": "Mug", "stock": 1, "price": 1, "currency": "dollars"}, "currency"),
        ({"name": "Mug", "stock": 1, "price": 1, "currency": "U$D"}, "currency"),
    ],
)
def test_bad_product_bodies_name_the_field_and_write_nothing(client, sku, body, field):
    answer = client.simulate_put(f"/v1/products/{sku}", json=body, headers=H)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in answer.json["errors"]]
    assert client.simulate_get(f"/v1/products/{sku}", headers=H).status_code == 404


def test_over_long_sku_is_refused(client):
    answer = client.simulate_put("/v1/products/" + "x" * 65, json={"name": "Mug", "stock": 1}, headers=H)
    assert answer.status_code == 422
    assert answer.json["errors"][0]["field"] == "sku"


def test_malformed_json_is_a_400_problem(client, sku):
    answer = client.simulate_put(
        f"/v1/products/{sku}",
        body=b'{"name": "Mug", "stock":',
        headers={**H, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json["type"].endswith("/malformed-json")


def test_non_json_body_is_415(client, sku):
    answer = client.simulate_put(
        f"/v1/products/{sku}", body=b"name=Mug", headers={**H, "Content-Type": "text/plain"}
    )
    assert answer.status_code == 415


@pytest.mark.parametrize("headers", [{}, auth("wrong"), auth(ADMIN), {"Authorization": STOREFRONT}])
def test_missing_or_wrong_token_is_401_and_writes_nothing(client, sku, headers):
    answer = client.simulate_put(f"/v1/products/{sku}", json={"name": "Mug", "stock": 1}, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert client.simulate_get(f"/v1/products/{sku}", headers=H).status_code == 404


def test_nul_characters_are_refused_by_field_not_a_500(client, sku):
    answer = client.simulate_put(f"/v1/products/{sku}", json={"name": "Mug\u0000", "stock": 1}, headers=H)
    assert answer.status_code == 422 and answer.json["errors"][0]["field"] == "name"
