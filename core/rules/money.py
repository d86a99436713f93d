"""Money rules: what a checkout owes, whether a payment covers it, how much has been refunded.

Amounts are integers in minor units (cents); currencies are ISO 4217 codes, upper case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

# ISO 4217 currencies without minor units: shown without decimals.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF"}
)


@dataclass(frozen=True)
class Price:
    amount: int | None  # None: stored before prices existed
    currency: str | None


@dataclass(frozen=True)
class Owed:
    amount: int
    currency: str


class Unpriced(Exception):
    def __init__(self, skus: list[str]) -> None:
        super().__init__(f"no price for {', '.join(skus)}")
        self.skus = skus


class MixedCurrency(Exception):
    def __init__(self, currencies: list[str]) -> None:
        super().__init__(f"lines in {', '.join(currencies)}")
        self.currencies = currencies


def amount_owed(items: Mapping[str, int], prices: Mapping[str, Price]) -> Owed:
    """Sum of price x quantity; raises Unpriced or MixedCurrency when no single total exists."""
    unpriced = [sku for sku in items if prices[sku].amount is None or prices[sku].currency is None]
    if unpriced:
        raise Unpriced(unpriced)
    currencies = sorted({str(prices[sku].currency) for sku in items})
    if len(currencies) != 1:
        raise MixedCurrency(currencies)
    total = sum(int(prices[sku].amount or 0) * quantity for sku, quantity in items.items())
    return Owed(total, currencies[0])


def shortfall(
    paid: int | None, paid_currency: str | None, owed: int | None, owed_currency: str | None
) -> str | None:
    """Why a payment does not cover what the checkout owes, or None when it does."""
    if owed is None or owed_currency is None:
        return f"paid {describe(paid, paid_currency)}; the checkout has no recorded amount owed"
    if paid is None or paid_currency is None:
        return f"the payment reports no amount; owed {describe(owed, owed_currency)}"
    if paid_currency.upper() != owed_currency.upper() or paid < owed:
        return f"paid {describe(paid, paid_currency)}, owed {describe(owed, owed_currency)}"
    return None


def refunded_total(refunds: Iterable[tuple[int, bool]]) -> int:
    """Refunded so far from (amount, cumulative) reports: Stripe reports the running total on
    each refund (take the largest), the others each refund's own amount (add them up)."""
    running, added = 0, 0
    for amount, cumulative in refunds:
        if cumulative:
            running = max(running, amount)
        else:
            added += amount
    return max(running, added)


def major_units(amount: int, currency: str) -> Decimal:
    """1250 USD -> 12.50; 1250 JPY -> 1250."""
    scale = 1 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 100
    return Decimal(amount) / scale


def describe(amount: int | None, currency: str | None) -> str:
    """`100 USD` in minor units, as a person reading an alert compares them."""
    if amount is None:
        return "an unknown amount"
    return f"{amount} {(currency or '').upper()}".strip()
