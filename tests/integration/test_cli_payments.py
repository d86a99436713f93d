"""`backroom payments list` against the real database: a table for people, JSON for scripts."""

import json
from datetime import timedelta

import pytest

from tests.support.payment_issues import insert_underpaid_order, insert_unmatched, later_than_everything


def test_table_shows_paid_owed_and_why(cli, engine):
    start = later_than_everything(engine)
    order_id = insert_underpaid_order(engine, paid=100, owed=5000, created_at=start)
    unmatched_id = insert_unmatched(
        engine, amount=2500, currency="EUR", reason="no checkout\nmatches", created_at=start
    )
    code, out = cli("payments", "list", "--limit", "2")
    assert code == 0
    header, *rows = out.out.splitlines()
    assert header.split() == ["state", "id", "created_at", "provider", "payment_id", "paid", "owed", "reason"]
    order_row = next(r for r in rows if order_id in r)
    assert "100 USD" in order_row and "5000 USD" in order_row and "paid 100 USD, owed 5000 USD" in order_row
    unmatched_row = next(r for r in rows if unmatched_id in r)
    assert "2500 EUR" in unmatched_row and "no checkout matches" in unmatched_row  # one line per payment
    assert len(rows) == 2


def test_json_and_the_state_filter(cli, engine):
    start = later_than_everything(engine)
    order_id = insert_underpaid_order(engine, created_at=start)
    unmatched_id = insert_unmatched(engine, created_at=start + timedelta(seconds=1))
    code, out = cli("payments", "list", "--state", "needs_attention", "--json", "--limit", "500")
    items = json.loads(out.out)
    assert code == 0 and {i["state"] for i in items} == {"needs_attention"}
    mine = next(i for i in items if i["id"] == order_id)
    assert mine["paid"] == {"amount": 100, "currency": "USD"}
    assert mine["owed"] == {"amount": 5000, "currency": "USD"}
    code, out = cli("payments", "list", "--state", "unmatched", "--json", "--limit", "1")
    assert [i["id"] for i in json.loads(out.out)] == [unmatched_id]


@pytest.mark.parametrize("argv", [["--state", "paid"], ["--limit", "0"], ["--limit", "501"]])
def test_bad_options_are_refused(cli, argv):
    with pytest.raises(SystemExit) as exit_:
        cli("payments", "list", *argv)
    assert exit_.value.code == 2
