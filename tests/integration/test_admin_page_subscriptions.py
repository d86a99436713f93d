"""The /admin dashboard's "Subscriptions needing a person": past-due and lapsed subscriptions with
their last decline, escaped, and a Retry button behind the session, CSRF and a confirmation."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from api.admin_page.views import templates
from tests.conftest import ADMIN
from tests.support.storefront_subscriptions import (
    add_charge,
    create,
    quiet_client,
    renewals_sent,
    row,
    set_row,
)

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# Long unpaid: first in the list (the longest unpaid first), whatever other tests left.
LONG_AGO = datetime(2001, 1, 1, tzinfo=UTC)


@pytest.fixture
def page(settings, engine, clock):
    """(client, settings of its Redis namespace), and the subscriptions made stuck here, cancelled
    afterwards so no renewal run of a later test finds them due."""
    client, quiet = quiet_client(settings, engine, clock)
    made = []

    def stuck(state, **columns):
        sid = create(client, clock(), plan="premium <b>gold</b>")
        set_row(engine, sid, state=state, current_period_end=LONG_AGO, **columns)
        made.append(sid)
        return sid

    yield client, quiet, stuck
    for sid in made:
        set_row(engine, sid, state="cancelled", next_attempt_at=None)


def _jar(client):
    login = client.simulate_post(
        "/admin/login", body=f"token={ADMIN}&operator=ada%40example.com", headers=FORM
    )
    assert login.status_code == 303
    return {k: v.value for k, v in login.cookies.items()}


def _section(html):
    match = re.search(r"<h2>Subscriptions needing a person</h2>(.*?)</section>", html, re.S)
    assert match, "the dashboard has no subscriptions section"
    return match.group(1)


def _row(section, subscription_id):
    rows = [r for r in re.findall(r"<tr>(.*?)</tr>", section, re.S) if subscription_id in r]
    assert len(rows) == 1, subscription_id
    return rows[0]


def _text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_section_lists_past_due_and_lapsed_with_the_last_decline(page, engine, clock):
    client, _, stuck = page
    past_due = stuck("past_due", dunning_step=2, next_attempt_at=datetime(2031, 5, 1, 9, tzinfo=UTC))
    lapsed = stuck("lapsed", dunning_step=5)
    active = create(client, clock())
    attempt = {"state": "declined", "at": LONG_AGO, "code": "card_declined", "message": "<script>x</script>"}
    add_charge(engine, past_due, LONG_AGO, LONG_AGO + timedelta(days=31), attempts=(attempt,))
    section = _section(client.simulate_get("/admin", cookies=_jar(client)).text)
    shown = _row(section, past_due)
    text = _text(shown)
    assert "past due" in text and "step 2" in text and "1299 USD" in text and "ada@example.com" in text
    assert "2031-05-01 09:00:00 UTC" in text and "card_declined" in text
    assert "&lt;script&gt;x&lt;/script&gt;" in shown and "<script>" not in section
    assert "&lt;b&gt;gold&lt;/b&gt;" in shown  # the storefront's plan name, escaped too
    assert f'action="/admin/subscriptions/{past_due}/retry"' in shown
    assert "lapsed" in _text(_row(section, lapsed))
    assert active not in section


def test_retry_needs_csrf_and_confirmation_then_tries_the_card_now(page, engine, clock):
    client, quiet, stuck = page
    lapsed = stuck("lapsed", dunning_step=5, lapsed_at=clock())
    jar = _jar(client)
    url = f"/admin/subscriptions/{lapsed}/retry"
    assert client.simulate_post(url, body="", cookies=jar, headers=FORM).status_code == 403
    assert client.simulate_post(url, body="csrf=x", headers=FORM).status_code == 303  # no session: login
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.simulate_get("/admin", cookies=jar).text).group(1)
    confirm = client.simulate_post(url, body=f"csrf={csrf}", cookies=jar, headers=FORM)
    assert confirm.status_code == 200 and "Yes, retry" in confirm.text and 'name="reason"' not in confirm.text
    assert row(engine, lapsed).state == "lapsed" and renewals_sent(quiet, lapsed) == 0
    clock.advance(5)
    done = client.simulate_post(url, body=f"csrf={csrf}&confirm=yes", cookies=jar, headers=FORM)
    assert done.status_code == 303 and "Retrying" in done.headers["location"]
    after = row(engine, lapsed)
    assert after.state == "past_due" and after.next_attempt_at == clock() and after.lapsed_at is None
    assert renewals_sent(quiet, lapsed) == 1
    # An active subscription is not retried: the page says why and sends nothing.
    active = create(client, clock())
    refused = client.simulate_post(
        f"/admin/subscriptions/{active}/retry", body=f"csrf={csrf}&confirm=yes", cookies=jar, headers=FORM
    )
    assert refused.status_code == 303 and "is%20active" in refused.headers["location"]
    assert renewals_sent(quiet, active) == 0 and row(engine, active).state == "active"
    missing = client.simulate_post(
        "/admin/subscriptions/sub-nobody/retry", body=f"csrf={csrf}&confirm=yes", cookies=jar, headers=FORM
    )
    assert missing.status_code == 404


def test_an_empty_list_says_no_subscription_needs_a_person():
    # Rendered directly: this process's database may already hold subscriptions other tests wrote.
    context = {
        "csrf": "x",
        "payments": [],
        "payments_shown": 100,
        "queues": [],
        "groups": [],
        "schedules": [],
        "entries": [],
        "fingerprint": None,
        "notice": None,
    }
    html = (
        templates()
        .get_template("dashboard.html")
        .render(subscriptions=[], subscriptions_shown=100, **context)
    )
    assert "No subscription is past due or lapsed." in _section(html)
