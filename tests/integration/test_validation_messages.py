"""422 answers name the field in the API's words: no model class, no pydantic phrasing (issue 7)."""

import json

import pytest

from tests.conftest import STOREFRONT, auth

PYTHON_WORDS = (
    "ReservationIn",
    "ProductIn",
    "Item",
    "instance of",
    "dictionary",
    "Input should",
    "Field required",
)
JSON = {**auth(STOREFRONT), "Content-Type": "application/json"}


def _problem(answer):
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    text = json.dumps(answer.json)
    assert not [word for word in PYTHON_WORDS if word in text], text
    return {e["field"]: e["message"] for e in answer.json["errors"]}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([1, 2], {"body": "must be an object"}),
        ({"name": "Mug", "stock": 1}, {"price": "is required"}),
        (
            {"name": "Mug", "stock": "1", "price": 12.5},
            {"stock": "must be a JSON integer", "price": "must be an integer (no fractional part)"},
        ),
        (
            {"name": "", "stock": -1, "price": 1, "colour": "red"},
            {"name": "must not be empty", "stock": "must be at least 0", "colour": "is not a known field"},
        ),
    ],
)
def test_product_put_names_fields_plainly(client, sku, body, expected):
    answer = client.simulate_put(f"/v1/products/{sku}", body=json.dumps(body), headers=JSON)
    assert _problem(answer) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("a string", {"body": "must be an object"}),
        ({"email": "ada@example.com", "items": ["mug"]}, {"items[0]": "must be an object"}),
        ({"email": "ada@example.com", "items": {"sku": "mug"}}, {"items": "must be an array"}),
        (
            {"email": "ada@example.com", "items": [{"sku": "mug", "quantity": 0}, {"quantity": 1}]},
            {"items[0].quantity": "must be at least 1", "items[1].sku": "is required"},
        ),
    ],
)
def test_reservation_post_names_fields_plainly(client, body, expected):
    answer = client.simulate_post("/v1/checkouts/c-plain/reservation", body=json.dumps(body), headers=JSON)
    assert _problem(answer) == expected
