"""The product's `reserved` counter: units held by its `active` reservations, expired or not.

Every transaction that starts or ends an active hold changes the counter too, so it always
equals the sum of the SKU's active holds. Product rows are locked in SKU order (two transactions
never deadlock) and, where holds are locked too, holds first; a transaction that holds product
rows never waits for a hold (it skips locked ones).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlmodel import Session

from db.queries.products import EXPIRED_UNENDED, lock_products

# Change fits: a decrease always does, an increase only within stock not yet reserved.
FITS = "(w.q <= 0 OR p.stock - p.reserved >= w.q)"


def _update(deltas: dict[str, int], assign: str, fits: str) -> tuple[str, dict[str, object]]:
    """A CTE and an UPDATE (no leading WITH) that change each product of `deltas` by `assign`
    where `fits`; it returns the SKUs changed. With more than one SKU, lock the rows first
    (`lock_in_order`): one UPDATE locks rows in whatever order its plan visits them. (Locking
    them in a CTE of the same statement is no cure: the UPDATE then revisits the version its
    snapshot saw and can queue behind a transaction that waits for us, a deadlock.)"""
    skus = sorted(deltas)
    rows = ", ".join(f"(CAST(:s{i} AS varchar), CAST(:q{i} AS integer))" for i in range(len(skus)))
    params: dict[str, object] = {f"s{i}": sku for i, sku in enumerate(skus)}
    params |= {f"q{i}": deltas[sku] for i, sku in enumerate(skus)}
    sql = (
        f"want(sku, q) AS (VALUES {rows}) "
        f"UPDATE product p SET {assign} FROM want w WHERE p.sku = w.sku AND {fits} RETURNING p.sku"
    )
    return sql, params


def lock_in_order(session: Session, skus: Collection[str]) -> None:
    """Lock several products' rows in SKU order before one statement changes them all."""
    if len(skus) > 1:
        lock_products(session, sorted(skus))


def change_sql(deltas: dict[str, int]) -> tuple[str, dict[str, object]]:
    """One UPDATE adding each SKU's delta to its counter where it fits (see FITS): the SKUs
    changed. Without its leading WITH, so a caller can put it after CTEs of its own."""
    return _update(deltas, "reserved = p.reserved + w.q", FITS)


def change(session: Session, deltas: dict[str, int]) -> set[str]:
    """Add `deltas` to the SKUs' counters where they fit: the SKUs changed (the rest are short)."""
    if not deltas:
        return set()
    lock_in_order(session, deltas)
    sql, params = change_sql(deltas)
    return {str(sku) for sku in session.execute(text(f"WITH {sql}"), params).scalars()}


def end_expired(session: Session, skus: list[str], now: datetime, *, wait: bool) -> dict[str, int]:
    """Mark the SKUs' active holds past expiry expired: units ended by SKU, for the caller to
    take off the counters. `wait=False` skips holds another transaction has locked (call it while
    holding product rows); `wait=True` locks them in id order (before locking any product row)."""
    skip = "" if wait else " SKIP LOCKED"
    rows = session.execute(
        text(
            "WITH due AS (SELECT id FROM reservation WHERE sku IN :skus AND state = 'active' "
            f"AND expires_at <= :now ORDER BY id FOR UPDATE{skip}) "
            "UPDATE reservation r SET state = 'expired', ended_at = :now FROM due "
            "WHERE r.id = due.id AND r.state = 'active' RETURNING r.sku, r.quantity"
        ).bindparams(bindparam("skus", expanding=True)),
        {"skus": skus, "now": now},
    )
    ended: dict[str, int] = {}
    for sku, quantity in rows:
        ended[sku] = ended.get(sku, 0) + int(quantity)
    return ended


def take(session: Session, items: dict[str, int]) -> set[str]:
    """Take paid units out of stock where what is left still covers every other hold (the
    caller took its own holds off the counter first): the SKUs taken, the rest are short."""
    lock_in_order(session, items)
    sql, params = _update(
        items,
        "stock = p.stock - w.q, updated_at = now(), low_stock_alerted_at = CASE "
        "WHEN p.stock - w.q > p.low_stock_threshold THEN NULL ELSE p.low_stock_alerted_at END",
        "p.stock - w.q >= p.reserved",
    )
    return {str(sku) for sku in session.execute(text(f"WITH {sql}"), params).scalars()}


def live_reserved(session: Session, skus: list[str], now: datetime) -> dict[str, tuple[int, int]]:
    """(stock, units held by unexpired active holds) by SKU: the counter less what expired and
    was not ended yet, read in one statement so both come from one snapshot."""
    rows = session.execute(
        text(
            f"SELECT p.sku, p.stock, p.reserved - {EXPIRED_UNENDED} AS live "
            "FROM product p WHERE p.sku IN :skus"
        ).bindparams(bindparam("skus", expanding=True)),
        {"skus": skus, "now": now},
    )
    return {str(r.sku): (int(r.stock), int(r.live)) for r in rows}


def expire_batch(
    session: Session, now: datetime, batch_size: int, after: datetime | None = None
) -> tuple[int, datetime | None]:
    """Mark up to `batch_size` past-expiry active holds expired (oldest first, none older than
    `after`) and take them off their products' reserved counters; committed holds are never
    touched: how many expired, and the latest expiry among them (the next batch's `after`).

    `after` keeps a run's batches from stepping again over the index entries of the holds its
    earlier batches ended (dead until vacuum: without it a long backlog drains in quadratic
    time). SKIP LOCKED lets two cleanups (or a cleanup and a checkout) work side by side; the
    product rows are locked after the holds, in SKU order, as everywhere (see above).
    """
    rows = session.execute(
        text(
            "WITH due AS (SELECT id FROM reservation WHERE state = 'active' AND expires_at <= :now "
            "AND expires_at >= CAST(:after AS timestamptz) ORDER BY expires_at LIMIT :n "
            "FOR UPDATE SKIP LOCKED), "
            "gone AS (UPDATE reservation r SET state = 'expired', ended_at = :now FROM due "
            "WHERE r.id = due.id AND r.state = 'active' RETURNING r.sku, r.quantity, r.expires_at) "
            "SELECT sku, SUM(quantity) AS units, COUNT(*) AS holds, MAX(expires_at) AS last "
            "FROM gone GROUP BY sku"
        ),
        {"now": now, "n": batch_size, "after": after or "-infinity"},
    ).all()
    change(session, {str(r.sku): -int(r.units) for r in rows})
    return sum(int(r.holds) for r in rows), max((r.last for r in rows), default=after)


def recount(session: Session) -> dict[str, tuple[int, int]]:
    """Set every counter that differs from its product's active holds to their sum: (was, now)
    by SKU. Every product row is locked first, in SKU order, by a statement of its own, so the
    sum (a later statement, a later snapshot) sees every hold change whose counter change
    committed; a transaction still waiting for a row changes the counter after us, as it would
    have anyway. Repairs holds moved outside this module (a pre-0009 process still serving)."""
    session.execute(text("SELECT sku FROM product ORDER BY sku FOR NO KEY UPDATE"))
    rows = session.execute(
        text(
            "WITH held AS (SELECT p.sku, p.reserved AS was, COALESCE((SELECT SUM(r.quantity) "
            "FROM reservation r WHERE r.sku = p.sku AND r.state = 'active'), 0) AS now FROM product p) "
            "UPDATE product p SET reserved = held.now FROM held "
            "WHERE p.sku = held.sku AND held.was <> held.now RETURNING p.sku, held.was, held.now"
        )
    )
    return {str(r.sku): (int(r.was), int(r.now)) for r in rows}
