"""Money and order rules, pure: what is owed, whether a payment covers it, refunds, holds to buy."""

from datetime import UTC, datetime, timedelta

import pytest

from core.rules.money import (
    MixedCurrency,
    Owed,
    Price,
    Unpriced,
    amount_owed,
    major_units,
    refunded_total,
    shortfall,
)
from core.rules.orders import Hold, items_to_buy, on_payment_succeeded, on_refund

T0 = datetime(2026, 11, 22, 12, tzinfo=UTC)


def test_amount_owed_is_price_times_quantity_in_one_currency():
    prices = {"a": Price(1250, "USD"), "b": Price(399, "USD")}
    assert amount_owed({"a": 2, "b": 3}, prices) == Owed(3697, "USD")


def test_unpriced_and_mixed_currency_lines_have_no_total():
    with pytest.raises(Unpriced) as unpriced:
        amount_owed({"a": 1, "b": 1}, {"a": Price(None, None), "b": Price(1, "USD")})
    assert unpriced.value.skus == ["a"]
    with pytest.raises(MixedCurrency) as mixed:
        amount_owed({"a": 1, "b": 1}, {"a": Price(1, "USD"), "b": Price(1, "EUR")})
    assert mixed.value.currencies == ["EUR", "USD"]


@pytest.mark.parametrize(
    ("paid", "currency", "owed", "owed_currency", "reason"),
    [
        (5000, "USD", 5000, "USD", None),
        (5001, "usd", 5000, "USD", None),
        (100, "USD", 5000, "USD", "paid 100 USD, owed 5000 USD"),
        (5000, "EUR", 5000, "USD", "paid 5000 EUR, owed 5000 USD"),
        (5000, "USD", None, None, "paid 5000 USD; the checkout has no recorded amount owed"),
        (None, None, 5000, "USD", "the payment reports no amount; owed 5000 USD"),
    ],
)
def test_a_payment_covers_a_checkout_only_in_full_and_in_its_currency(
    paid, currency, owed, owed_currency, reason
):
    assert shortfall(paid, currency, owed, owed_currency) == reason


def test_refunds_add_up_but_running_totals_do_not():
    assert refunded_total([]) == 0
    assert refunded_total([(1000, False), (1500, False)]) == 2500
    assert refunded_total([(1000, True), (1400, True), (1200, True)]) == 1400


def test_refund_actions_follow_the_total():
    assert on_refund("paid", 1000, 2500) == "partial"
    assert on_refund("paid", 2500, 2500) == "refund"
    assert on_refund("needs_attention", 2500, 2500) == "refund"
    assert on_refund("refunded", 2500, 2500) == "already"
    assert on_refund(None, 2500, None) == "no_order"


def test_a_second_payment_is_told_apart_from_the_same_payment_again():
    assert on_payment_succeeded(None, False, "pi_1") == "create_order"
    assert on_payment_succeeded("pi_1", True, "pi_1") == "same_payment"
    assert on_payment_succeeded("pi_1", True, "pi_2") == "another_payment"


def test_a_checkout_buys_its_active_holds_else_its_latest_ended_set():
    old, new = T0, T0 + timedelta(minutes=5)
    holds = [
        Hold(1, "a", 1, "released", old),
        Hold(2, "b", 2, "released", new),
        Hold(3, "c", 1, "expired", new),
    ]
    items, used = items_to_buy(holds)
    assert items == {"b": 2, "c": 1} and [h.id for h in used] == [2, 3]
    items, used = items_to_buy([*holds, Hold(4, "a", 5, "active", new)])
    assert items == {"a": 5} and [h.id for h in used] == [4]
    assert items_to_buy([]) == ({}, [])


def test_amounts_are_shown_in_major_units():
    assert str(major_units(1250, "usd")) == "12.5"
    assert major_units(1250, "JPY") == 1250
