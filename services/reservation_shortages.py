"""What a reservation does when a product's reserved counter has too little room: end that SKU's
expired holds in the same transaction and try once more; if still short, refuse, naming each SKU.

Expiry-aware without a sum under the lock: an expired hold stays in the counter until something
ends it, so it is ended here, by the sale it stands in the way of, whether cleanup ran or not.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from core.errors import Conflict
from core.rules.stock import Shortage, available
from db.queries import reserved


class ExpiryInFlight(Exception):
    """Expired holds another transaction had locked (and is ending) made the difference."""

    def __init__(self, skus: list[str]) -> None:
        super().__init__(", ".join(skus))
        self.skus = skus


def check_shortages(
    session: Session,
    short: list[str],
    deltas: dict[str, int],
    wanted: dict[str, int],
    ended: dict[str, int],
    now: datetime,
    *,
    retried: bool,
) -> None:
    """Free the `short` SKUs' expired holds and change their counters again; raise Conflict
    (insufficient-stock) for what still does not fit, or ExpiryInFlight when only expired holds
    locked by someone else stood in the way and this is the first try.

    `ended` are the units of holds this transaction ended: still in the counter of a SKU whose
    change failed. The short SKUs' rows are locked already (by the failed change).
    """
    freed = reserved.end_expired(session, short, now, wait=False)
    retry = {sku: deltas[sku] - freed[sku] for sku in short if freed.get(sku)}
    fitted = reserved.change(session, retry) if retry else set()
    still = [sku for sku in short if sku not in fitted]
    if not still:
        return
    counts = reserved.live_reserved(session, still, now)
    on_hand = {sku: stock for sku, (stock, _) in counts.items()}
    held = {sku: live - ended.get(sku, 0) - freed.get(sku, 0) for sku, (_, live) in counts.items()}
    shortages = [Shortage(sku, wanted[sku], available(on_hand[sku], held[sku])) for sku in still]
    if not retried and any(s.available >= s.requested for s in shortages):
        raise ExpiryInFlight(still)
    raise Conflict(
        "Not enough stock for every item; nothing was reserved.",
        slug="insufficient-stock",
        title="Insufficient stock",
        shortages=[vars(s) for s in shortages],
    )


def take_paid_stock(session: Session, items: dict[str, int], now: datetime) -> str | None:
    """Take a paid checkout's units out of stock (its own holds already off the counters), by
    the reservation's rule: what others hold live must still fit. None when taken, else why
    not (and nothing was taken: a savepoint undoes the SKUs that fitted)."""
    savepoint = session.begin_nested()
    taken = reserved.take(session, items)
    short = [sku for sku in items if sku not in taken]
    if short:
        freed = reserved.end_expired(session, short, now, wait=False)
        reserved.change(session, {sku: -units for sku, units in freed.items()})
        retry = {sku: items[sku] for sku in short if freed.get(sku)}
        taken = reserved.take(session, retry) if retry else set()
        short = [sku for sku in short if sku not in taken]
    if not short:
        savepoint.commit()
        return None
    counts = reserved.live_reserved(session, short, now)
    savepoint.rollback()
    return "; ".join(f"{sku}: paid {items[sku]}, {available(*counts[sku])} available" for sku in short)
