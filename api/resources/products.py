"""`/v1/products/{sku}`: the catalogue and stock as the storefront knows them."""

from __future__ import annotations

import falcon

from api.schemas import ProductIn, ProductOut
from api.validation import check_id, parse_body
from services.products import Products, ProductView


class ProductResource:
    """PUT sets name, stock on hand, low-stock threshold and price; GET adds reserved and available."""

    auth = "storefront"
    rate_limit = "storefront"

    def __init__(self, products: Products, max_body_bytes: int) -> None:
        self.products = products
        self.max_body_bytes = max_body_bytes

    def on_put(self, req: falcon.Request, resp: falcon.Response, sku: str) -> None:
        check_id("sku", sku)
        body = parse_body(req, ProductIn, self.max_body_bytes)
        view, created = self.products.put_product(
            sku,
            name=body.name,
            stock=body.stock,
            low_stock_threshold=body.low_stock_threshold,
            price=body.price,
            currency=body.currency,
        )
        resp.status = falcon.HTTP_201 if created else falcon.HTTP_200
        resp.media = _out(view)

    def on_get(self, req: falcon.Request, resp: falcon.Response, sku: str) -> None:
        check_id("sku", sku)
        resp.media = _out(self.products.get_product(sku))


def _out(view: ProductView) -> dict[str, object]:
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
