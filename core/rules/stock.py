"""Stock rules: how much is available, what a reservation request needs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Shortage:
    sku: str
    requested: int
    available: int


def available(stock: int, reserved: int) -> int:
    """Units a new checkout may take; never below zero even if stock was cut under holds."""
    return max(0, stock - reserved)


def merge_items(items: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Sum quantities per SKU (a cart may list one SKU twice), in SKU order.

    SKU order is also the order rows are locked in, so two checkouts never deadlock.
    """
    merged: dict[str, int] = {}
    for sku, quantity in items:
        merged[sku] = merged.get(sku, 0) + quantity
    return dict(sorted(merged.items()))


def find_shortages(
    requested: Mapping[str, int], on_hand: Mapping[str, int], held_by_others: Mapping[str, int]
) -> list[Shortage]:
    """Every SKU whose request exceeds what others have not already reserved."""
    shortages = []
    for sku, quantity in requested.items():
        free = available(on_hand[sku], held_by_others.get(sku, 0))
        if quantity > free:
            shortages.append(Shortage(sku=sku, requested=quantity, available=free))
    return shortages


def is_same_request(requested: Mapping[str, int], live_holds: Mapping[str, int]) -> bool:
    """A repeat of the reservation the checkout already holds, unexpired, changes nothing."""
    return bool(live_holds) and dict(requested) == dict(live_holds)


def expiry(now: datetime, ttl_seconds: int) -> datetime:
    return now + timedelta(seconds=ttl_seconds)
