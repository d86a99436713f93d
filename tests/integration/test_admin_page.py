"""The operator page over HTTP: login, cookie flags, CSRF, confirmation before acting."""

import re

from tests.conftest import ADMIN
from tests.support.dead_letters import insert_dead_letter


def _entry(engine):
    return insert_dead_letter(
        engine,
        queue="page-tests",
        actor="tests.page",
        args=["<b>x</b>"],
        attempts=3,
        exception_message="<script>alert(1)</script>",
    )


def _login(client):
    answer = client.simulate_post(
        "/admin/login",
        body=f"token={ADMIN}&operator=ada%40example.com",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 303 and answer.headers["location"].endswith("/admin")
    return answer


def _csrf(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_pages_need_a_session_and_a_wrong_token_stays_out(client):
    assert client.simulate_get("/admin").status_code == 303
    wrong = client.simulate_post(
        "/admin/login", body="token=nope", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert wrong.status_code == 401 and "not valid" in wrong.text and "set-cookie" not in wrong.headers


def test_login_sets_a_strict_http_only_cookie(client):
    cookie = _login(client).headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin" in cookie


def test_dashboard_and_entry_escape_what_jobs_wrote(client, engine):
    entry_id = _entry(engine)
    cookies = _login(client).cookies
    page = client.simulate_get("/admin", cookies={k: v.value for k, v in cookies.items()})
    assert page.status_code == 200 and "Queues" in page.text and "Schedules" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    detail = client.simulate_get(
        f"/admin/dead-letters/{entry_id}", cookies={k: v.value for k, v in cookies.items()}
    )
    assert "&lt;script&gt;" in detail.text and "<script>alert" not in detail.text


def test_actions_need_csrf_and_confirmation(client, engine):
    entry_id = _entry(engine)
    jar = {k: v.value for k, v in _login(client).cookies.items()}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    no_csrf = client.simulate_post(
        f"/admin/dead-letters/{entry_id}/replay", body="", cookies=jar, headers=form
    )
    assert no_csrf.status_code == 403
    csrf = _csrf(client.simulate_get(f"/admin/dead-letters/{entry_id}", cookies=jar).text)
    confirm = client.simulate_post(
        f"/admin/dead-letters/{entry_id}/replay", body=f"csrf={csrf}", cookies=jar, headers=form
    )
    assert confirm.status_code == 200 and "Yes, replay" in confirm.text
    assert (
        client.simulate_get(
            f"/v1/admin/dead-letters/{entry_id}", headers={"Authorization": f"Bearer {ADMIN}"}
        ).json["state"]
        == "dead"
    )
    done = client.simulate_post(
        f"/admin/dead-letters/{entry_id}/replay",
        body=f"csrf={csrf}&confirm=yes&reason=ok",
        cookies=jar,
        headers=form,
    )
    assert done.status_code == 303
    shown = client.simulate_get(
        f"/v1/admin/dead-letters/{entry_id}", headers={"Authorization": f"Bearer {ADMIN}"}
    )
    assert shown.json["state"] == "replayed"
    assert shown.json["history"][0]["performed_by"] == "web:ada@example_com"


def test_static_css_is_served_by_the_app(client):
    answer = client.simulate_get("/admin/static/admin.css")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/css")


def test_group_purge_confirms_with_the_count_then_purges_the_group(client, engine):
    import uuid

    fingerprint = uuid.uuid4().hex[:12]
    ids = [insert_dead_letter(engine, fingerprint=fingerprint) for _ in range(2)]
    jar = {k: v.value for k, v in _login(client).cookies.items()}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    csrf = _csrf(client.simulate_get("/admin", cookies=jar).text)
    url = f"/admin/groups/{fingerprint}/purge"
    confirm = client.simulate_post(url, body=f"csrf={csrf}", cookies=jar, headers=form)
    assert "Purge 2 dead letters in group" in confirm.text
    done = client.simulate_post(url, body=f"csrf={csrf}&confirm=yes", cookies=jar, headers=form)
    assert done.status_code == 303 and "Purged%202" in done.headers["location"]
    admin = {"Authorization": f"Bearer {ADMIN}"}
    assert all(
        client.simulate_get(f"/v1/admin/dead-letters/{i}", headers=admin).status_code == 404 for i in ids
    )
    bad = client.simulate_post(
        "/admin/groups/not-a-fingerprint!/purge", body=f"csrf={csrf}", cookies=jar, headers=form
    )
    assert bad.status_code == 404
