"""The operator page's schedules: trigger, pause (by, why, since), next run, last success, an
overdue mark, and Pause / Resume / Run now behind CSRF and a confirmation, audited with the
name given at login."""

from datetime import timedelta

import pytest

from tests.conftest import ADMIN
from tests.support.schedule_rows import actions, clear_schedules, runs, set_state

JOB = "stock-cleanup"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(autouse=True)
def clean(engine):
    clear_schedules(engine)
    yield
    clear_schedules(engine)


@pytest.fixture
def jar(client):
    answer = client.simulate_post(
        "/admin/login", body=f"token={ADMIN}&operator=ada%40example.com", headers=FORM
    )
    assert answer.status_code == 303
    return {k: v.value for k, v in answer.cookies.items()}


def _dashboard(client, jar):
    page = client.simulate_get("/admin", cookies=jar)
    assert page.status_code == 200
    return page.text


def _schedules(html):
    return html[html.index('<section id="schedules">') :]


def _csrf(html):
    import re

    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _post(client, jar, url, body):
    return client.simulate_post(url, body=body, cookies=jar, headers=FORM)


def test_pause_needs_csrf_and_confirmation_then_shows_who_and_why(client, engine, jar):
    html = _dashboard(client, jar)
    section = _schedules(html)
    assert f'action="/admin/schedules/{JOB}/pause"' in section and "every 5m" in section
    assert "Resume</button>" not in section and "overdue</span>" not in section
    csrf = _csrf(html)
    url = f"/admin/schedules/{JOB}/pause"

    assert _post(client, jar, url, "").status_code == 403  # no CSRF token
    assert _post(client, jar, url, "csrf=forged").status_code == 403
    confirm = _post(client, jar, url, f"csrf={csrf}")
    assert confirm.status_code == 200 and "Yes, pause" in confirm.text and f"schedule {JOB}" in confirm.text
    assert actions(engine, JOB) == []  # asked, not done

    done = _post(client, jar, url, f"csrf={csrf}&confirm=yes&reason=supplier+outage")
    assert done.status_code == 303 and "Paused%20stock-cleanup" in done.headers["location"]
    assert actions(engine, JOB) == [("pause", "web:ada@example_com", "supplier outage")]

    section = _schedules(_dashboard(client, jar))
    assert f'action="/admin/schedules/{JOB}/resume"' in section
    assert "by web:ada@example_com since" in section and "supplier outage" in section

    resumed = _post(client, jar, f"/admin/schedules/{JOB}/resume", f"csrf={csrf}&confirm=yes")
    assert resumed.status_code == 303
    assert [a for a, _by, _reason in actions(engine, JOB)] == ["pause", "resume"]
    assert "supplier outage" not in _schedules(_dashboard(client, jar))


def test_run_now_enqueues_a_manual_run_audited_with_the_operator(client, engine, jar):
    csrf = _csrf(_dashboard(client, jar))
    url = "/admin/schedules/reconcile/run"
    confirm = _post(client, jar, url, f"csrf={csrf}")
    assert "Yes, run" in confirm.text and runs(engine, "reconcile") == []
    done = _post(client, jar, url, f"csrf={csrf}&confirm=yes&reason=by+hand")
    assert done.status_code == 303 and "Enqueued%20reconcile" in done.headers["location"]
    ((fired_by, state, message_id),) = runs(engine, "reconcile")
    assert fired_by == "manual:web:ada@example_com" and state in ("sent", "running", "succeeded")
    assert message_id and message_id in done.headers["location"]
    assert actions(engine, "reconcile") == [("run", "web:ada@example_com", "by hand")]


def test_an_overdue_job_is_marked_and_an_unknown_job_is_a_404(client, engine, jar, clock):
    set_state(engine, JOB, active_since=clock() - timedelta(days=1))
    section = _schedules(_dashboard(client, jar))
    row = section[section.index(f"<td>{JOB}") :].split("</tr>")[0]
    assert "overdue</span>" in row
    others = section.replace(row, "")
    assert "overdue</span>" not in others
    csrf = _csrf(section)
    assert _post(client, jar, "/admin/schedules/no-such-job/pause", f"csrf={csrf}").status_code == 404
    assert actions(engine, "no-such-job") == []
