"""The /admin dashboard's "Payments that need a person": paid, owed and why, escaped."""

import re

from api.admin_page.views import templates
from tests.conftest import ADMIN
from tests.support.payment_issues import insert_underpaid_order, insert_unmatched, later_than_everything


def _dashboard(client):
    login = client.simulate_post(
        "/admin/login",
        body=f"token={ADMIN}&operator=ada%40example.com",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert login.status_code == 303
    page = client.simulate_get("/admin", cookies={k: v.value for k, v in login.cookies.items()})
    assert page.status_code == 200
    return page.text


def _section(html):
    match = re.search(r"<h2>Payments that need a person</h2>(.*?)</section>", html, re.S)
    assert match, "the dashboard has no payments section"
    return match.group(1)


def _row(section, item_id):
    rows = [r for r in re.findall(r"<tr>(.*?)</tr>", section, re.S) if item_id in r]
    assert len(rows) == 1, item_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", rows[0]))


def test_dashboard_shows_what_was_paid_owed_and_why(client, engine):
    start = later_than_everything(engine)
    order_id = insert_underpaid_order(engine, paid=100, owed=5000, created_at=start)
    unmatched_id = insert_unmatched(
        engine, amount=2500, currency="EUR", reason="no checkout matches", created_at=start
    )
    section = _section(_dashboard(client))
    order = _row(section, order_id)
    assert "needs attention" in order and "100 USD" in order and "5000 USD" in order
    assert "paid 100 USD, owed 5000 USD" in order
    unmatched = _row(section, unmatched_id)
    assert "2500 EUR" in unmatched and "no checkout matches" in unmatched and "—" in unmatched


def test_what_providers_and_notes_wrote_is_escaped(client, engine):
    start = later_than_everything(engine)
    order_id = insert_underpaid_order(engine, note="<script>alert(1)</script> owed more", created_at=start)
    section = _section(_dashboard(client))
    assert "&lt;script&gt;alert(1)&lt;/script&gt; owed more" in _row(section, order_id)
    assert "<script>" not in section


def test_an_empty_list_says_nothing_needs_a_person():
    # Rendered directly: this process's database may already hold payments other tests wrote.
    html = (
        templates()
        .get_template("dashboard.html")
        .render(
            csrf="x",
            payments=[],
            payments_shown=100,
            queues=[],
            groups=[],
            schedules=[],
            entries=[],
            fingerprint=None,
            notice=None,
        )
    )
    assert "Nothing needs a person." in _section(html)
