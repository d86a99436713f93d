"""Authentication is declared by every route, and every route of the OpenAPI document keeps it."""

import re

import falcon.testing
import pytest

from api.admin_page.views import admin_routes
from api.app import ROUTES, create_app
from tests.conftest import ADMIN, CRON, STOREFRONT, auth, make_settings

# Routes that answer without a token; everything else in the document must refuse one.
PUBLIC = {"/health", "/ready", "/openapi.json", "/metrics", "/v1/webhooks/{provider}"}
PUBLIC |= {"/v1/carts/unsubscribe"}  # the signed token in the query string authenticates
TOKENS = {"storefront": STOREFRONT, "admin": ADMIN, "cron": CRON}
SAMPLE = "999999999"  # fits every path parameter (ids, SKUs, int converters) and matches no row


def _operations(client):
    document = client.simulate_get("/openapi.json").json
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method.upper(), operation


def _url(path):
    return re.sub(r"\{\w+\}", SAMPLE, path)


def test_every_documented_route_refuses_a_missing_or_wrong_token(client):
    checked = 0
    for path, method, operation in _operations(client):
        url = _url(path)
        if path in PUBLIC:
            # /metrics: public, or METRICS_TOKEN when that is set (an optional requirement).
            assert operation["security"] == ([{}, {"metrics": []}] if path == "/metrics" else []), path
            answer = client.simulate_request(method, url)
            assert answer.status_code != 401, (method, path)
            continue
        (scheme,) = (name for requirement in operation["security"] for name in requirement)
        others = [token for name, token in TOKENS.items() if name != scheme]
        for headers in ({}, auth("wrong-token"), {"Authorization": "Basic x"}, *map(auth, others)):
            answer = client.simulate_request(method, url, headers=headers)
            assert answer.status_code == 401, (method, path, headers, answer.status_code)
            assert answer.json["type"].endswith("/unauthorized")
            assert answer.headers["www-authenticate"].startswith("Bearer")
        # The documented scheme is the one the route takes.
        assert client.simulate_request(method, url, headers=auth(TOKENS[scheme])).status_code != 401
        checked += 1
    assert checked >= 15  # the walk really walked


def test_every_route_declares_its_auth_as_the_document_says(client):
    documented = {path: ops for path, ops in client.simulate_get("/openapi.json").json["paths"].items()}
    for template, _factory in ROUTES:
        path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", template)
        resource, _methods, _params, _template = client.app._router.find(_url(path))
        security = {name for op in documented[path].values() for req in op["security"] for name in req}
        if resource.auth in TOKENS:
            assert security == {resource.auth}, path
        else:
            expected = {"metrics"} if resource.auth == "metrics" else set()
            assert path in PUBLIC and security == expected, (path, resource.auth)


def test_admin_pages_need_a_live_session(client):
    open_pages = {"/admin/login", "/admin/static/admin.css"}
    for template, _factory in admin_routes():
        url = re.sub(r"\{(\w+)(:[^}]+)?\}", "1", template)
        for method in ("GET", "POST"):
            for cookies in (None, {"backroom_admin": "1.x.y.forged"}):
                answer = client.simulate_request(method, url, cookies=cookies)
                if template in open_pages or answer.status_code == 405:
                    continue
                assert answer.status_code == 303, (method, template)
                assert answer.headers["location"].endswith("/admin/login")


class Undeclared:
    rate_limit = "public"

    def __init__(self):
        self.called = False

    def on_get(self, req, resp):
        self.called = True
        resp.media = {"secret": "served"}


def test_a_route_without_an_auth_decision_stops_the_app_at_start(settings, engine):
    routes = [*ROUTES, ("/v1/forgotten", lambda deps: Undeclared())]
    with pytest.raises(RuntimeError, match=r"/v1/forgotten \(Undeclared\) declares no authentication"):
        create_app(settings, engine=engine, routes=routes)


def test_a_route_added_later_without_a_decision_is_refused_not_served(client):
    resource = Undeclared()
    client.app.add_route("/v1/added-later", resource)
    answer = client.simulate_get("/v1/added-later")
    assert answer.status_code == 500 and "served" not in answer.text and resource.called is False


def test_metrics_take_the_metrics_token_when_it_is_set(settings, engine, client):
    guarded = falcon.testing.TestClient(
        create_app(
            make_settings(settings.database_url, settings.redis_url, metrics_token="metrics-token-0123"),
            engine=engine,
        )
    )
    assert guarded.simulate_get("/metrics").status_code == 401
    assert guarded.simulate_get("/metrics", headers=auth("wrong")).status_code == 401
    assert guarded.simulate_get("/metrics", headers=auth(ADMIN)).status_code == 401
    scraped = guarded.simulate_get("/metrics", headers=auth("metrics-token-0123"))
    assert scraped.status_code == 200 and "backroom_http_requests_total" in scraped.text
    assert client.simulate_get("/metrics").status_code == 200  # unset: public, as before
