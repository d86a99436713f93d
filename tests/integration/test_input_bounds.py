"""One bounded body reader for every route: JSON, webhooks and the /admin forms; chunked bodies too.

A chunked body reaches the app as gunicorn hands it over: no CONTENT_LENGTH, a
`Transfer-Encoding: chunked` header and the decoded bytes on wsgi.input. Falcon's
TestClient always sets CONTENT_LENGTH, so these requests call the WSGI app directly
(tests/e2e/test_edge_http.py sends real chunked requests to gunicorn).
"""

import uuid

import falcon.testing
import pytest

from api.app import create_app
from tests.conftest import ADMIN, STOREFRONT, auth, make_settings
from tests.support.payloads import body, signed

LIMIT = 1024
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def small_app(settings, engine):
    return create_app(
        make_settings(settings.database_url, settings.redis_url, max_body_bytes=LIMIT), engine=engine
    )


def send_chunked(app, method, path, raw, headers):
    """The request a WSGI server makes of a chunked upload: the body without a length."""
    env = falcon.testing.create_environ(
        path=path, method=method, body=raw, headers={**headers, "Transfer-Encoding": "chunked"}
    )
    env.pop("CONTENT_LENGTH", None)
    start = falcon.testing.StartResponseMock()
    chunks = app(env, start)
    return falcon.testing.Result(chunks, start.status, start.headers)


def test_a_chunked_json_body_is_read_not_taken_for_empty(small_app, sku):
    headers = {**auth(STOREFRONT), "Content-Type": "application/json"}
    answer = send_chunked(small_app, "PUT", f"/v1/products/{sku}", b'{"stock": -1}', headers)
    # Read and validated: the fields are named (today: 400 malformed-json, the body seen as empty).
    assert answer.status_code == 422, answer.text
    fields = {error["field"] for error in answer.json["errors"]}
    assert {"name", "stock"} <= fields


def test_a_chunked_body_past_the_limit_is_413(small_app, sku):
    headers = {**auth(STOREFRONT), "Content-Type": "application/json"}
    big = b'{"name": "' + b"x" * (LIMIT * 4) + b'", "stock": 1}'
    answer = send_chunked(small_app, "PUT", f"/v1/products/{sku}", big, headers)
    assert answer.status_code == 413 and answer.json["type"].endswith("/body-too-large")


def test_a_chunked_signed_webhook_is_stored(small_app):
    marker = f"pay-{uuid.uuid4().hex[:10]}"
    raw, headers = signed("paystack", body("paystack", "succeeded", checkout_id=marker, payment_id=marker))
    answer = send_chunked(small_app, "POST", "/v1/webhooks/paystack", raw, headers)
    assert answer.status_code == 200 and answer.json == {"received": True, "duplicate": False}


def test_a_chunked_webhook_past_the_limit_is_413(small_app):
    payload = body("paystack", "succeeded", checkout_id="c", payment_id="p")
    payload["padding"] = "x" * (LIMIT * 2)
    raw, headers = signed("paystack", payload)
    assert send_chunked(small_app, "POST", "/v1/webhooks/paystack", raw, headers).status_code == 413


def test_admin_login_refuses_a_declared_huge_body_without_reading_it(small_app):
    client = falcon.testing.TestClient(small_app)
    # Claims 200 MiB: refused on the header (today the form parser reads whatever the length says).
    claimed = client.simulate_post(
        "/admin/login",
        body=f"token={ADMIN}",
        headers={**FORM, "Content-Length": str(200 * 1024 * 1024)},
    )
    assert claimed.status_code == 413
    padded = f"token={ADMIN}&pad={'x' * LIMIT}"
    sent = client.simulate_post("/admin/login", body=padded, headers=FORM)
    assert sent.status_code == 413 and "set-cookie" not in sent.headers


def test_admin_login_reads_a_chunked_form_and_bounds_it(small_app):
    ok = send_chunked(small_app, "POST", "/admin/login", f"token={ADMIN}&operator=ada".encode(), FORM)
    assert ok.status_code == 303 and "backroom_admin=" in ok.headers["set-cookie"]
    big = send_chunked(small_app, "POST", "/admin/login", f"token={ADMIN}&pad={'x' * LIMIT}".encode(), FORM)
    assert big.status_code == 413


def test_admin_forms_behind_the_session_are_bounded_too(small_app):
    client = falcon.testing.TestClient(small_app)
    login = client.simulate_post("/admin/login", body=f"token={ADMIN}", headers=FORM)
    jar = {name: cookie.value for name, cookie in login.cookies.items()}
    answer = client.simulate_post("/admin/logout", body="csrf=" + "x" * LIMIT, cookies=jar, headers=FORM)
    assert answer.status_code == 413
    # Still logged in: the oversized post changed nothing.
    assert client.simulate_get("/admin", cookies=jar).status_code == 200


def test_a_form_that_is_not_urlencoded_is_415(small_app):
    client = falcon.testing.TestClient(small_app)
    answer = client.simulate_post(
        "/admin/login", body=f'{{"token": "{ADMIN}"}}', headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 415 and "set-cookie" not in answer.headers
