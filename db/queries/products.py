"""Product queries: the catalogue, stock on hand and what live holds take from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlmodel import Session

from core.rules import money as rules_money
from core.rules import stock as rules

# A hold that still counts against availability.
LIVE = "state = 'active' AND expires_at > :now"
# Units of the product `p` still counted by its reserved counter though their holds expired.
EXPIRED_UNENDED = (
    "COALESCE((SELECT SUM(quantity) FROM reservation r "
    "WHERE r.sku = p.sku AND r.state = 'active' AND r.expires_at <= :now), 0)"
)


@dataclass(frozen=True)
class ProductView:
    sku: str
    name: str
    stock: int
    reserved: int
    low_stock_threshold: int
    price: int | None
    currency: str | None

    @property
    def available(self) -> int:
        return rules.available(self.stock, self.reserved)


def upsert_product(
    session: Session, *, sku: str, name: str, stock: int, threshold: int, price: int, currency: str
) -> bool:
    """Create or replace a product's catalogue facts; True when it was created."""
    row = session.execute(
        text(
            "INSERT INTO product (sku, name, stock, low_stock_threshold, price, currency) "
            "VALUES (:sku, :name, :stock, :t, :price, :currency) "
            "ON CONFLICT (sku) DO UPDATE SET name = excluded.name, stock = excluded.stock, "
            "low_stock_threshold = excluded.low_stock_threshold, price = excluded.price, "
            "currency = excluded.currency, updated_at = now(), "
            "low_stock_alerted_at = CASE WHEN excluded.stock > excluded.low_stock_threshold THEN NULL "
            "ELSE product.low_stock_alerted_at END "
            "RETURNING (xmax = 0) AS created"
        ),
        {"sku": sku, "name": name, "stock": stock, "t": threshold, "price": price, "currency": currency},
    ).one()
    return bool(row.created)


def product_view(session: Session, sku: str, now: datetime) -> ProductView | None:
    """The product with the units its unexpired active holds take: the reserved counter less
    the expired holds nothing has ended yet (an index range, not a sum of every live hold)."""
    row = session.execute(
        text(
            "SELECT p.sku, p.name, p.stock, p.low_stock_threshold, p.price, p.currency, "
            f"p.reserved - {EXPIRED_UNENDED} AS reserved FROM product p WHERE p.sku = :sku"
        ),
        {"sku": sku, "now": now},
    ).one_or_none()
    if row is None:
        return None
    return ProductView(
        row.sku, row.name, row.stock, int(row.reserved), row.low_stock_threshold, row.price, row.currency
    )


def lock_products(session: Session, skus: list[str]) -> dict[str, int]:
    """Lock the products' rows in SKU order (so two transactions never deadlock): stock by SKU.
    NO KEY: a hold inserted for the product (its foreign key check) does not wait for it."""
    rows = session.execute(
        text("SELECT sku, stock FROM product WHERE sku IN :skus ORDER BY sku FOR NO KEY UPDATE").bindparams(
            bindparam("skus", expanding=True)
        ),
        {"skus": skus},
    )
    return {str(r.sku): int(r.stock) for r in rows}


def prices(session: Session, skus: list[str]) -> dict[str, rules_money.Price]:
    """Each existing product's price, read without a lock: a reservation fixes what it read."""
    rows = session.execute(
        text("SELECT sku, price, currency FROM product WHERE sku IN :skus").bindparams(
            bindparam("skus", expanding=True)
        ),
        {"skus": skus},
    )
    return {str(r.sku): rules_money.Price(r.price, r.currency) for r in rows}


def change_stock(session: Session, items: dict[str, int], sign: int) -> None:
    """Lower (sign -1) or raise (sign +1) stock on hand; rows must already be locked.
    The CHECK (stock >= 0) makes an oversell an error, never a negative count."""
    session.execute(
        text(
            "UPDATE product SET stock = stock + :delta, updated_at = now(), "
            # Back above its threshold: the low-stock alert re-arms now, not at the next run.
            "low_stock_alerted_at = CASE WHEN stock + :delta > low_stock_threshold THEN NULL "
            "ELSE low_stock_alerted_at END WHERE sku = :sku"
        ),
        [{"sku": sku, "delta": sign * qty} for sku, qty in items.items()],
    )


def live_reserved_total(session: Session, now: datetime) -> int:
    return int(
        session.execute(
            text(
                "SELECT (SELECT COALESCE(SUM(reserved), 0) FROM product) - (SELECT "
                "COALESCE(SUM(quantity), 0) FROM reservation WHERE state = 'active' AND expires_at <= :now)"
            ),
            {"now": now},
        ).scalar_one()
    )


def product_names(session: Session, skus: list[str]) -> dict[str, str]:
    """The catalogue name of each of `skus` that has a product row."""
    rows = session.execute(
        text("SELECT sku, name FROM product WHERE sku IN :skus").bindparams(
            bindparam("skus", expanding=True)
        ),
        {"skus": skus},
    )
    return {str(r.sku): str(r.name) for r in rows}
