from datetime import datetime, timedelta

import pytest

from tests.support.factories import H, new_checkout_id, product, put_product, reserve


def test_reserve_holds_stock_until_expiry(client, clock):
    sku = put_product(client, 5)
    answer = reserve(client, new_checkout_id(), [(sku, 2)])
    assert answer.status_code == 201
    assert answer.json["items"] == [{"sku": sku, "quantity": 2}]
    # The expiry is the clock's now plus the TTL (a date-prefix check failed near midnight).
    assert datetime.fromisoformat(answer.json["expires_at"]) == clock() + timedelta(seconds=900)
    assert product(client, sku)["reserved"] == 2
    assert product(client, sku)["available"] == 3
    clock.advance(901)
    # Expired holds stop counting at once, whether or not cleanup has run.
    assert product(client, sku)["available"] == 5


def test_all_or_nothing_across_skus_with_each_shortage_listed(client):
    plenty, scarce, none = put_product(client, 10), put_product(client, 1), put_product(client, 0)
    answer = reserve(client, new_checkout_id(), [(plenty, 2), (scarce, 2), (none, 1)])
    assert answer.status_code == 409
    assert answer.json["type"].endswith("/insufficient-stock")
    assert sorted(answer.json["shortages"], key=lambda s: s["sku"]) == sorted(
        [{"sku": scarce, "requested": 2, "available": 1}, {"sku": none, "requested": 1, "available": 0}],
        key=lambda s: s["sku"],
    )
    assert product(client, plenty)["reserved"] == 0


def test_repeating_the_same_reservation_holds_nothing_twice(client):
    sku, checkout = put_product(client, 3), new_checkout_id()
    first = reserve(client, checkout, [(sku, 2)])
    again = reserve(client, checkout, [(sku, 2)])
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers["idempotent-replayed"] == "true"
    assert product(client, sku)["reserved"] == 2


def test_a_different_item_list_replaces_the_old_one(client):
    a, b, checkout = put_product(client, 3), put_product(client, 3), new_checkout_id()
    reserve(client, checkout, [(a, 2)])
    replaced = reserve(client, checkout, [(a, 3), (b, 1)])
    assert replaced.status_code == 201
    assert product(client, a)["reserved"] == 3  # its own old hold does not count against it
    assert product(client, b)["reserved"] == 1


def test_a_failed_replacement_keeps_the_old_holds(client):
    a, checkout = put_product(client, 3), new_checkout_id()
    reserve(client, checkout, [(a, 2)])
    assert reserve(client, checkout, [(a, 4)]).status_code == 409
    assert product(client, a)["reserved"] == 2


def test_duplicate_skus_in_one_request_are_summed(client):
    sku = put_product(client, 3)
    assert reserve(client, new_checkout_id(), [(sku, 2), (sku, 2)]).status_code == 409
    assert reserve(client, new_checkout_id(), [(sku, 1), (sku, 2)]).json["items"] == [
        {"sku": sku, "quantity": 3}
    ]


def test_release_frees_stock_now(client):
    sku, checkout = put_product(client, 2), new_checkout_id()
    reserve(client, checkout, [(sku, 2)])
    released = client.simulate_delete(f"/v1/checkouts/{checkout}/reservation", headers=H)
    assert released.status_code == 200 and released.json["released_holds"] == 1
    assert product(client, sku)["available"] == 2
    assert (
        client.simulate_delete(f"/v1/checkouts/{checkout}/reservation", headers=H).json["released_holds"] == 0
    )


def test_release_of_unknown_checkout_is_404(client):
    assert (
        client.simulate_delete(f"/v1/checkouts/{new_checkout_id()}/reservation", headers=H).status_code == 404
    )


def test_a_reservation_after_expiry_reserves_afresh(client, clock):
    sku, checkout = put_product(client, 1), new_checkout_id()
    reserve(client, checkout, [(sku, 1)])
    clock.advance(1000)
    assert reserve(client, new_checkout_id(), [(sku, 1)]).status_code == 201  # someone else takes it
    assert reserve(client, checkout, [(sku, 1)]).status_code == 409


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([{"sku": "x", "quantity": 0}], "items[0].quantity"),
        ([{"sku": "x", "quantity": -2}], "items[0].quantity"),
        ([{"sku": "x", "quantity": 10**7}], "items[0].quantity"),
        ([{"sku": "x", "quantity": "1"}], "items[0].quantity"),
        ([{"sku": "x" * 65, "quantity": 1}], "items[0].sku"),
        ([], "items"),
        ("nope", "items"),
    ],
)
def test_bad_reservations_name_the_field_and_hold_nothing(client, items, field):
    sku = put_product(client, 5)
    body_items = (
        [{**i, "sku": sku if i["sku"] == "x" else i["sku"]} for i in items]
        if isinstance(items, list)
        else items
    )
    answer = client.simulate_post(
        f"/v1/checkouts/{new_checkout_id()}/reservation",
        json={"email": "a@example.com", "items": body_items},
        headers=H,
    )
    assert answer.status_code == 422
    assert field in [e["field"] for e in answer.json["errors"]]
    assert product(client, sku)["reserved"] == 0


def test_unknown_sku_is_named_and_nothing_is_held(client):
    sku, checkout = put_product(client, 5), new_checkout_id()
    answer = reserve(client, checkout, [(sku, 1), ("no-such-sku", 1)])
    assert answer.status_code == 422
    assert answer.json["errors"] == [{"field": "items[1].sku", "message": "unknown SKU 'no-such-sku'"}]
    assert product(client, sku)["reserved"] == 0
    assert client.simulate_delete(f"/v1/checkouts/{checkout}/reservation", headers=H).status_code == 404


def test_over_long_checkout_id_and_bad_email_are_refused(client):
    sku = put_product(client, 1)
    assert reserve(client, "c" * 65, [(sku, 1)]).json["errors"][0]["field"] == "checkout_id"
    answer = client.simulate_post(
        f"/v1/checkouts/{new_checkout_id()}/reservation",
        json={"email": "nope", "items": [{"sku": sku, "quantity": 1}]},
        headers=H,
    )
    assert answer.json["errors"][0]["field"] == "email"
