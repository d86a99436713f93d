"""Why a reservation's items cannot be reserved before stock is even looked at: SKUs with no
product (422 naming each line), or no total to fix (an unpriced product, several currencies)."""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import Conflict, Invalid
from core.rules.money import MixedCurrency, Owed, Price, Unpriced, amount_owed


def unknown_skus(items: Sequence[tuple[str, int]], missing: set[str]) -> Invalid:
    """The 422 naming each line whose SKU has no product, by its position in the request."""
    return Invalid(
        "Some SKUs do not exist.",
        [
            {"field": f"items[{i}].sku", "message": f"unknown SKU {sku!r}"}
            for i, (sku, _) in enumerate(items)
            if sku in missing
        ],
    )


def owed_for(items: dict[str, int], prices: dict[str, Price]) -> Owed:
    """What the items cost in one currency, or the error that says why there is no total."""
    try:
        return amount_owed(items, prices)
    except Unpriced as error:
        raise Conflict(
            f"Give {', '.join(error.skus)} a price (PUT /v1/products/{{sku}}) before reserving it.",
            slug="product-unpriced",
            title="Product has no price",
            skus=error.skus,
        ) from None
    except MixedCurrency as error:
        raise Invalid(
            "A checkout is paid in one currency; these items are priced in several.",
            [{"field": "items", "message": f"priced in {' and '.join(error.currencies)}"}],
            slug="mixed-currency",
            title="Mixed currencies",
        ) from None
