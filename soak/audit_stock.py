"""The audit's stock check: for every SKU, stock + units sold - units restocked = the starting
stock, and no sample ever saw more reserved than in stock.

Units sold are the lines of every order that took stock: those still holding it
(`stock_deducted`) and those the driver cancelled after seeing them paid (the only way stock
comes back in the soak); units restocked are the latter's lines. A cancel that restocked twice,
or a payment that took stock twice, breaks the equation.
"""

from __future__ import annotations

from collections import Counter

from soak.audit import Check, _found, rows
from soak.ledger import Ledger
from soak.load import COLD, HOT, stock_of

LINES = (
    "SELECT o.order_id, o.state, o.stock_deducted, l.sku, l.quantity"
    " FROM order_line l JOIN customer_order o USING (order_id)"
)


def stock(database_url: str, ledger: Ledger) -> Check:
    now = dict(rows(database_url, "SELECT sku, stock FROM product"))
    held, restocked = Counter[str](), Counter[str]()
    bad = []
    for order_id, state, deducted, sku, quantity in rows(database_url, LINES):
        cancelled = order_id in ledger.cancel_attempted and state == "cancelled"
        if deducted:
            held[sku] += quantity
        if cancelled:
            restocked[sku] += quantity
        if cancelled and deducted:
            bad.append(f"{order_id}: cancelled yet still holding stock")
    sold = held + restocked
    for sku in HOT + COLD:
        if now.get(sku, 0) + sold[sku] - restocked[sku] != stock_of(sku):
            bad.append(
                f"{sku}: stock {now.get(sku)} + sold {sold[sku]} - restocked {restocked[sku]}"
                f" != {stock_of(sku)}"
            )
    bad += [f"reserved > stock at {sample}" for sample in ledger.oversold]
    found = f"{sum(sold.values())} units sold, {sum(restocked.values())} restocked by cancels"
    return Check("stock: stock + sold - restocked = start; reserved <= stock", not bad, _found(found, bad))
