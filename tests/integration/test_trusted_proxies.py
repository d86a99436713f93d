"""Behind TRUSTED_PROXIES the limiter, the audit and the cookie see the forwarded client and scheme."""

import uuid

import falcon.testing
from sqlalchemy import text

from api.app import create_app
from db.engine import transaction
from tests.conftest import ADMIN, STOREFRONT, auth, make_settings
from tests.support.dead_letters import insert_dead_letter

PROXY = "10.1.2.3"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _client(settings, engine, **overrides):
    values = {"trusted_proxies": "10.0.0.0/8, 127.0.0.1/32", "rate_limit_storefront": "2/day", **overrides}
    return falcon.testing.TestClient(
        create_app(make_settings(settings.database_url, settings.redis_url, **values), engine=engine)
    )


def _get(client, sku, forwarded_for, peer=PROXY):
    return client.simulate_get(
        f"/v1/products/{sku}",
        headers={**auth(STOREFRONT), "X-Forwarded-For": forwarded_for},
        remote_addr=peer,
    ).status_code


def test_clients_behind_the_proxy_have_their_own_budgets(settings, engine, sku):
    client = _client(settings, engine)
    assert [_get(client, sku, "198.51.100.1") for _ in range(3)] == [404, 404, 429]
    # Same proxy, another client: counted apart (today every client behind it shares one budget).
    assert _get(client, sku, "198.51.100.2") == 404
    # A client's own X-Forwarded-For entry is left of what the proxy appended: it changes nothing.
    assert _get(client, sku, "6.6.6.6, 198.51.100.1") == 429


def test_an_untrusted_peer_cannot_pick_its_address(settings, engine, sku):
    client = _client(settings, engine)
    answers = [_get(client, sku, f"198.51.100.{n}", peer="203.0.113.5") for n in range(3)]
    assert answers == [404, 404, 429]


def test_the_audit_names_the_forwarded_client(settings, engine):
    client = _client(settings, engine)
    message_id = str(uuid.uuid4())
    entry = insert_dead_letter(engine, message_id=message_id, queue="proxy-tests", actor="tests.proxy")
    answer = client.simulate_delete(
        f"/v1/admin/dead-letters/{entry}",
        headers={**auth(ADMIN), "X-Forwarded-For": "198.51.100.77"},
        remote_addr=PROXY,
    )
    assert answer.status_code == 200
    with transaction(engine) as session:
        by = session.execute(
            text("SELECT performed_by FROM dead_letter_action WHERE message_id = :m AND action = 'purge'"),
            {"m": message_id},
        ).scalar_one()
    assert by == "api:198.51.100.77"


def test_the_cookie_is_secure_when_the_proxy_says_https(settings, engine):
    client = _client(settings, engine)
    login = f"token={ADMIN}"
    behind_tls = client.simulate_post(
        "/admin/login", body=login, headers={**FORM, "X-Forwarded-Proto": "https"}, remote_addr=PROXY
    )
    assert behind_tls.status_code == 303 and "Secure" in behind_tls.headers["set-cookie"]
    spoofed = client.simulate_post(
        "/admin/login", body=login, headers={**FORM, "X-Forwarded-Proto": "https"}, remote_addr="203.0.113.5"
    )
    assert spoofed.status_code == 303 and "Secure" not in spoofed.headers["set-cookie"]
