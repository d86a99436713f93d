"""Every client counted: the limiter runs before authentication, webhooks count in two buckets.

Limits are per day so that no test straddles a window boundary.
"""

import uuid

import falcon.testing
import redis

from api.app import create_app
from tests.conftest import STOREFRONT, auth, make_settings
from tests.support.payloads import body, signed


def _client(settings, engine, **limits):
    return falcon.testing.TestClient(
        create_app(make_settings(settings.database_url, settings.redis_url, **limits), engine=engine)
    )


def _event(tamper=False):
    marker = f"pay-{uuid.uuid4().hex[:10]}"
    raw, headers = signed("paystack", body("paystack", "succeeded", checkout_id=marker, payment_id=marker))
    return (raw.replace(b"2500", b"2501") if tamper else raw), headers


def test_wrong_tokens_count_against_the_client(settings, engine, sku):
    client = _client(settings, engine, rate_limit_storefront="5/day")
    wrong = [client.simulate_get(f"/v1/products/{sku}", headers=auth("wrong-token")) for _ in range(7)]
    assert [a.status_code for a in wrong] == [401] * 5 + [429] * 2
    assert wrong[-1].json["type"].endswith("/rate-limited") and int(wrong[-1].headers["retry-after"]) >= 1
    # The right token from the same client is over the same budget now.
    assert client.simulate_get(f"/v1/products/{sku}", headers=auth(STOREFRONT)).status_code == 429
    # Another client has its own budget.
    other = client.simulate_get(f"/v1/products/{sku}", headers=auth(STOREFRONT), remote_addr="192.0.2.9")
    assert other.status_code == 404


def test_missing_tokens_are_counted(settings, engine):
    client = _client(settings, engine, rate_limit_admin="2/day")
    assert [client.simulate_get("/v1/admin/queues").status_code for _ in range(3)] == [401, 401, 429]


def test_a_flood_of_bad_signatures_does_not_block_genuine_events(settings, engine):
    client = _client(settings, engine, rate_limit_webhooks_invalid="3/day", rate_limit_webhooks="100/day")
    junk = [client.simulate_post("/v1/webhooks/paystack", body=r, headers=h) for r, h in [_event(True)] * 5]
    assert [a.status_code for a in junk] == [400, 400, 400, 429, 429]
    assert junk[-1].json["type"].endswith("/rate-limited")
    raw, headers = _event()
    genuine = client.simulate_post("/v1/webhooks/paystack", body=raw, headers=headers)
    assert genuine.status_code == 200 and genuine.json["duplicate"] is False
    assert genuine.headers["ratelimit-limit"] == "100"
    # Unknown providers are junk too.
    assert client.simulate_post("/v1/webhooks/nope", body=b"{}").status_code == 429


def test_genuine_events_have_their_own_budget(settings, engine):
    client = _client(settings, engine, rate_limit_webhooks_invalid="100/day", rate_limit_webhooks="2/day")
    answers = [
        client.simulate_post("/v1/webhooks/paystack", body=r, headers=h)
        for r, h in (_event() for _ in range(3))
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    raw, headers = _event(tamper=True)
    assert client.simulate_post("/v1/webhooks/paystack", body=raw, headers=headers).status_code == 400


def test_a_window_key_left_without_expiry_gets_one_again(settings, engine, sku):
    """A process that died between counting and setting the expiry (or an EXPIRE that failed)
    must not leave the window's key in Redis forever: the next request gives it its expiry."""
    limited = make_settings(settings.database_url, settings.redis_url, rate_limit_storefront="50/day")
    client = falcon.testing.TestClient(create_app(limited, engine=engine))
    redis_client = redis.Redis.from_url(settings.redis_url)
    product = f"/v1/products/{sku}"  # a 404 is counted like any answer
    assert client.simulate_get(product, headers=auth(STOREFRONT)).status_code == 404
    [key] = redis_client.keys(f"{limited.redis_namespace}:ratelimit:storefront:*")
    assert 0 < redis_client.ttl(key) <= 86_401
    redis_client.persist(key)  # what the crash leaves: a counted key with no expiry
    assert client.simulate_get(product, headers=auth(STOREFRONT)).status_code == 404
    assert int(redis_client.get(key)) == 2
    assert 0 < redis_client.ttl(key) <= 86_401
