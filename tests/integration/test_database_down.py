"""With PostgreSQL down (or restarting) the web tier answers 503 with Retry-After, never 500: a
storefront or provider retries, and the answer carries no statement, parameter or URL (found by
the soak run, issue 14; the log line names the driver error only)."""

import falcon.testing
import pytest

from api.app import create_app
from tests.conftest import STOREFRONT, auth, make_settings

DOWN = "postgresql://postgres:S3cretDbPw@127.0.0.1:1/nowhere"


@pytest.fixture
def client_without_database(settings):
    return falcon.testing.TestClient(create_app(make_settings(DOWN, settings.redis_url)))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "POST",
            "/v1/checkouts/co-down/reservation",
            {"email": "ada@example.com", "items": [{"sku": "a", "quantity": 1}]},
        ),
        ("GET", "/v1/products/a", None),
        ("PUT", "/v1/carts/cart-down", {"email": "ada@example.com", "items": [{"sku": "a", "quantity": 1}]}),
        ("GET", "/v1/checkouts/co-down/order", None),
    ],
)
def test_a_storefront_request_gets_503_with_retry_after(client_without_database, method, path, body):
    answer = client_without_database.simulate_request(method, path, json=body, headers=auth(STOREFRONT))
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "5"
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json["type"].endswith("/database-unavailable")
    assert "S3cretDbPw" not in answer.text and "INSERT" not in answer.text and "SELECT" not in answer.text
