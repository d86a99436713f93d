"""Products: the catalogue, price and stock on hand as the storefront knows them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from core.errors import NotFound
from core.settings import Settings
from db.queries import products as queries
from db.queries import reserved
from db.queries.products import ProductView
from db.unit_of_work import UnitsOfWork

__all__ = ["ProductNotFound", "ProductView", "Products"]


class ProductNotFound(NotFound):
    slug, title = "product-not-found", "Product not found"


@dataclass(frozen=True)
class Products:
    units: UnitsOfWork
    settings: Settings
    now: Callable[[], datetime]

    def put_product(
        self,
        sku: str,
        *,
        name: str,
        stock: int,
        low_stock_threshold: int,
        price: int,
        currency: str | None,
    ) -> tuple[ProductView, bool]:
        """Create or replace the product (currency defaults to the store's): its view, and
        whether it was created."""
        with self.units.begin() as uow:
            created = queries.upsert_product(
                uow.session,
                sku=sku,
                name=name,
                stock=stock,
                threshold=low_stock_threshold,
                price=price,
                currency=(currency or self.settings.store_currency).upper(),
            )
            view = queries.product_view(uow.session, sku, self.now())
        assert view is not None
        return view, created

    def get_product(self, sku: str) -> ProductView:
        """The product with what live holds reserve of it and what is left available."""
        with self.units.begin() as uow:
            view = queries.product_view(uow.session, sku, self.now())
        if view is None:
            raise ProductNotFound(f"No product with SKU {sku!r}.")
        return view

    def recount_reserved(self) -> dict[str, tuple[int, int]]:
        """Repair the reserved counters that differ from their products' active holds: (was,
        now) by SKU, nothing when all agree. Run it once every process runs a version with the
        counter (after the deploy of migration 0009): holds an older process started or ended
        after the migration's backfill moved no counter."""
        with self.units.begin() as uow:
            return reserved.recount(uow.session)
