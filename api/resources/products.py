"""`/v1/products/{sku}`: the catalogue and stock as the storefront knows them."""

from __future__ import annotations

import falcon

from api.deps import Deps
from api.errors import Problem
from api.schemas import ProductIn, ProductOut
from api.validation import check_id, parse_body
from db.engine import transaction
from db.queries import products as queries


class Product:
    """PUT sets name, stock on hand, low-stock threshold and price; GET adds reserved and available."""

    auth = "storefront"
    rate_limit = "storefront"

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def on_put(self, req: falcon.Request, resp: falcon.Response, sku: str) -> None:
        check_id("sku", sku)
        body = parse_body(req, ProductIn, self.deps.settings.max_body_bytes)
        with transaction(self.deps.engine) as session:
            created = queries.upsert_product(
                session,
                sku=sku,
                name=body.name,
                stock=body.stock,
                threshold=body.low_stock_threshold,
                price=body.price,
                currency=(body.currency or self.deps.settings.store_currency).upper(),
            )
            view = queries.product_view(session, sku, self.deps.now())
        assert view is not None
        resp.status = falcon.HTTP_201 if created else falcon.HTTP_200
        resp.media = self._out(view)

    def on_get(self, req: falcon.Request, resp: falcon.Response, sku: str) -> None:
        check_id("sku", sku)
        with transaction(self.deps.engine) as session:
            view = queries.product_view(session, sku, self.deps.now())
        if view is None:
            raise Problem(404, "product-not-found", "Product not found", f"No product with SKU {sku!r}.")
        resp.media = self._out(view)

    @staticmethod
    def _out(view: queries.ProductView) -> dict[str, object]:
        return ProductOut(
            sku=view.sku,
            name=view.name,
            stock=view.stock,
            reserved=view.reserved,
            available=view.available,
            low_stock_threshold=view.low_stock_threshold,
            price=view.price,
            currency=view.currency,
        ).model_dump()
