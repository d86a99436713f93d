"""Abandoned-cart rules with `now` passed in: steps, the due step, sequence restarts, tokens."""

from datetime import UTC, datetime, timedelta

import pytest

from core.rules.carts import (
    due_step,
    normalise_items,
    parse_steps,
    starts_new_sequence,
    unsubscribe_token,
    verify_unsubscribe_token,
)

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
STEPS = parse_steps("1h,24h,72h")
SECRET = "s" * 40


def test_steps_parse_in_order_and_refuse_bad_lists():
    assert parse_steps("1h,24h,72h") == (timedelta(hours=1), timedelta(hours=24), timedelta(hours=72))
    assert parse_steps("2s, 4s") == (timedelta(seconds=2), timedelta(seconds=4))
    for bad in ("", "1h,1h", "24h,1h", "1x", "0s"):
        with pytest.raises(ValueError):
            parse_steps(bad)


@pytest.mark.parametrize(
    ("step_sent", "idle", "expected"),
    [
        (0, timedelta(minutes=59, seconds=59), None),  # not idle long enough
        (0, timedelta(hours=1), 1),  # exactly the step's duration
        (0, timedelta(hours=100), 1),  # late: the next step only, never two in one run
        (1, timedelta(hours=23), None),
        (1, timedelta(hours=24), 2),
        (2, timedelta(hours=72), 3),
        (3, timedelta(days=365), None),  # none after the last
        (4, timedelta(days=365), None),
    ],
)
def test_the_due_step_is_the_next_one_once_idle_long_enough(step_sent, idle, expected):
    assert due_step(STEPS, step_sent, T0, T0 + idle) == expected


def test_activity_in_the_future_makes_nothing_due():
    assert due_step(STEPS, 0, T0 + timedelta(hours=2), T0) is None


def test_items_compare_merged_per_sku_and_sorted():
    assert normalise_items([("b", 1), ("a", 2), ("b", 3)]) == [("a", 2), ("b", 4)]
    assert not starts_new_sequence([("a", 1), ("b", 2)], [("b", 2), ("a", 1)])
    assert not starts_new_sequence([("a", 2)], [("a", 1), ("a", 1)])
    assert starts_new_sequence([("a", 1)], [("a", 2)])
    assert starts_new_sequence([("a", 1)], [("a", 1), ("b", 1)])
    assert starts_new_sequence([("a", 1)], [])


def test_an_unsubscribe_token_names_its_cart_and_cannot_be_forged():
    token = unsubscribe_token(SECRET, "cart.1:x-y")
    assert verify_unsubscribe_token(SECRET, token) == "cart.1:x-y"
    assert "=" not in token and "+" not in token and "/" not in token  # URL-safe, unpadded
    assert verify_unsubscribe_token("t" * 40, token) is None  # another secret
    encoded, _, signature = token.partition(".")
    other = unsubscribe_token(SECRET, "cart-2").partition(".")[0]
    assert verify_unsubscribe_token(SECRET, f"{other}.{signature}") is None  # another cart's id
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    assert verify_unsubscribe_token(SECRET, f"{encoded}.{flipped}") is None
    for bad in ("", ".", encoded, f"{encoded}.", f".{signature}", "!!.!!", f"{encoded}.{signature}x"):
        assert verify_unsubscribe_token(SECRET, bad) is None, bad


def test_the_token_key_is_derived_not_the_secret_itself():
    import base64
    import hashlib
    import hmac

    token = unsubscribe_token(SECRET, "c1")
    raw = base64.urlsafe_b64decode(token.partition(".")[2] + "==")
    assert raw != hmac.new(SECRET.encode(), b"c1", hashlib.sha256).digest()
    key = hmac.new(SECRET.encode(), b"unsubscribe", hashlib.sha256).digest()
    assert raw == hmac.new(key, b"c1", hashlib.sha256).digest()
