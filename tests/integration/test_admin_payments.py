"""GET /v1/admin/payments: orders needing attention and unmatched payments, in one list."""

from datetime import timedelta

import pytest

from tests.conftest import ADMIN, STOREFRONT, auth
from tests.support.payment_issues import insert_underpaid_order, insert_unmatched, later_than_everything

PATH = "/v1/admin/payments"


def _get(client, token=ADMIN, **params):
    return client.simulate_get(PATH, params=params, headers=auth(token))


def _by_id(answer):
    return {item["id"]: item for item in answer.json["items"]}


def test_lists_both_kinds_with_what_was_paid_owed_and_why(client, engine):
    order_id = insert_underpaid_order(engine, paid=100, owed=5000)
    unmatched_id = insert_unmatched(engine, amount=2500, currency="EUR", reason="no checkout matches")
    answer = _get(client, limit=500)
    assert answer.status_code == 200
    items = _by_id(answer)
    order = items[order_id]
    assert order["state"] == "needs_attention"
    assert order["paid"] == {"amount": 100, "currency": "USD"}
    assert order["owed"] == {"amount": 5000, "currency": "USD"}
    assert order["reason"] == "paid 100 USD, owed 5000 USD"
    assert order["provider"] == "stripe" and order["checkout_id"].startswith("co-")
    unmatched = items[unmatched_id]
    assert unmatched["state"] == "unmatched"
    assert unmatched["paid"] == {"amount": 2500, "currency": "EUR"}
    assert unmatched["owed"] == {"amount": None, "currency": None}  # no checkout: nothing was owed
    assert unmatched["reason"] == "no checkout matches"


def test_an_unmatched_payment_for_a_known_checkout_shows_what_it_owed(client, engine):
    order_id = insert_underpaid_order(engine, paid=5000, owed=5000, note="paid but out of stock")
    checkout_id = _by_id(_get(client, state="needs_attention", limit=500))[order_id]["checkout_id"]
    second = insert_unmatched(
        engine, amount=5000, currency="USD", reason="checkout already paid", checkout_id=checkout_id
    )
    item = _by_id(_get(client, state="unmatched", limit=500))[second]
    assert item["owed"] == {"amount": 5000, "currency": "USD"} and item["checkout_id"] == checkout_id


def test_state_filters_one_kind(client, engine):
    order_id = insert_underpaid_order(engine)
    unmatched_id = insert_unmatched(engine)
    attention = _get(client, state="needs_attention", limit=500).json["items"]
    assert order_id in {i["id"] for i in attention} and unmatched_id not in {i["id"] for i in attention}
    assert {i["state"] for i in attention} == {"needs_attention"}
    unmatched = _get(client, state="unmatched", limit=500).json["items"]
    assert unmatched_id in {i["id"] for i in unmatched} and order_id not in {i["id"] for i in unmatched}
    assert {i["state"] for i in unmatched} == {"unmatched"}


def test_pages_newest_first_with_limit_and_offset(client, engine):
    start = later_than_everything(engine)
    oldest = insert_unmatched(engine, created_at=start)
    middle = insert_underpaid_order(engine, created_at=start + timedelta(seconds=1))
    newest = insert_unmatched(engine, created_at=start + timedelta(seconds=2))
    first = _get(client, limit=2)
    assert [i["id"] for i in first.json["items"]] == [newest, middle]
    assert first.json["next_offset"] == 2
    second = _get(client, limit=1, offset=2)
    assert [i["id"] for i in second.json["items"]] == [oldest]


def test_the_last_page_has_no_next_offset(client, engine):
    insert_unmatched(engine)
    total = len(_get(client, limit=500).json["items"])
    assert total < 500  # this process's database holds only what the tests wrote
    assert _get(client, limit=total).json["next_offset"] is None
    if total > 1:
        assert _get(client, limit=total - 1).json["next_offset"] == total - 1


@pytest.mark.parametrize("token", [None, "wrong-token", STOREFRONT])
def test_needs_the_admin_token(client, token):
    headers = auth(token) if token else {}
    answer = client.simulate_get(PATH, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "paid"}, "state"),
        ({"state": "NEEDS_ATTENTION"}, "state"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
    ],
)
def test_bad_query_is_a_422_naming_the_field(client, params, field):
    answer = _get(client, **params)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in answer.json["errors"]] == [field]
