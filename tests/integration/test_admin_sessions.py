"""/admin sessions live on the server: logout ends them, a copied cookie dies with them."""

import re

import falcon.testing

from api.app import create_app
from tests.conftest import ADMIN, make_settings

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _login(client):
    answer = client.simulate_post("/admin/login", body=f"token={ADMIN}&operator=ada", headers=FORM)
    assert answer.status_code == 303
    return answer, {name: cookie.value for name, cookie in answer.cookies.items()}


def test_a_cookie_replayed_after_logout_is_refused(client):
    _answer, jar = _login(client)
    page = client.simulate_get("/admin", cookies=jar)
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    out = client.simulate_post("/admin/logout", body=f"csrf={csrf}", cookies=jar, headers=FORM)
    assert out.status_code == 303 and out.headers["location"].endswith("/admin/login")
    # The stolen copy of the cookie (still validly signed and unexpired) no longer opens anything.
    replayed = client.simulate_get("/admin", cookies=jar)
    assert replayed.status_code == 303 and replayed.headers["location"].endswith("/admin/login")
    again = client.simulate_post("/admin/logout", body=f"csrf={csrf}", cookies=jar, headers=FORM)
    assert again.status_code == 303 and again.headers["location"].endswith("/admin/login")


def test_logging_out_one_session_leaves_the_others(client):
    _answer, first = _login(client)
    _answer, second = _login(client)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.simulate_get("/admin", cookies=first).text)
    client.simulate_post("/admin/logout", body=f"csrf={csrf.group(1)}", cookies=first, headers=FORM)
    assert client.simulate_get("/admin", cookies=second).status_code == 200


def test_the_cookie_is_secure_in_production_whatever_the_scheme(settings, engine):
    production = make_settings(settings.database_url, settings.redis_url, app_env="production")
    client = falcon.testing.TestClient(create_app(production, engine=engine))
    answer, _jar = _login(client)  # plain http, as behind a TLS-terminating proxy
    assert "Secure" in answer.headers["set-cookie"]
    development = falcon.testing.TestClient(
        create_app(make_settings(settings.database_url, settings.redis_url), engine=engine)
    )
    assert "Secure" not in _login(development)[0].headers["set-cookie"]


def test_login_says_so_when_sessions_cannot_be_stored(settings, engine):
    broken = make_settings(settings.database_url, "redis://127.0.0.1:1/0")
    client = falcon.testing.TestClient(create_app(broken, engine=engine))
    answer = client.simulate_post("/admin/login", body=f"token={ADMIN}", headers=FORM)
    assert answer.status_code == 503 and "set-cookie" not in answer.headers
