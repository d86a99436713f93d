from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.rules.stock import Shortage, available, expiry, find_shortages, is_same_request, merge_items


def test_available_never_negative_when_stock_was_cut_under_holds():
    assert available(10, 3) == 7
    assert available(2, 5) == 0


def test_merge_items_sums_duplicates_and_sorts_by_sku():
    assert merge_items([("b", 1), ("a", 2), ("b", 3)]) == {"a": 2, "b": 4}
    assert list(merge_items([("z", 1), ("a", 1), ("m", 1)])) == ["a", "m", "z"]


def test_find_shortages_lists_every_short_sku_with_what_is_left():
    requested = {"a": 3, "b": 1, "c": 5}
    shortages = find_shortages(requested, {"a": 5, "b": 1, "c": 4}, {"a": 3, "c": 0})
    assert shortages == [Shortage("a", 3, 2), Shortage("c", 5, 4)]


def test_no_shortage_when_exactly_enough():
    assert find_shortages({"a": 2}, {"a": 5}, {"a": 3}) == []


def test_same_request_needs_live_holds_equal_to_the_request():
    assert is_same_request({"a": 1}, {"a": 1})
    assert not is_same_request({"a": 1}, {"a": 2})
    assert not is_same_request({"a": 1}, {})
    assert not is_same_request({"a": 1, "b": 1}, {"a": 1})


def test_expiry_adds_the_ttl():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert expiry(now, 900) == now + timedelta(seconds=900)


@given(
    st.dictionaries(st.sampled_from("abcdef"), st.integers(1, 50), min_size=1),
    st.integers(0, 100),
    st.integers(0, 100),
)
def test_a_request_passes_exactly_when_every_sku_fits(requested, stock, held):
    on_hand = dict.fromkeys(requested, stock)
    holds = dict.fromkeys(requested, held)
    shortages = find_shortages(requested, on_hand, holds)
    fits = all(qty <= max(0, stock - held) for qty in requested.values())
    assert (shortages == []) == fits
    for shortage in shortages:
        assert shortage.requested > shortage.available >= 0
