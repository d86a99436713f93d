"""`GET /v1/admin/low-stock` (ADMIN_API_TOKEN): the products at or below their low-stock
threshold now, with when each was alerted (services/alerts.LowStockAlerts.list_low_stock; the
CLI's `backroom stock low` reads the same rows)."""

from __future__ import annotations

import falcon

from services.alerts import LowStockAlerts


class LowStockResource:
    """GET: `{"items": [...]}`, out of stock first, then by SKU; `alerted_at` is null for a
    product that crossed since the job last ran (the next run alerts it)."""

    auth = "admin"
    rate_limit = "admin"

    def __init__(self, alerts: LowStockAlerts) -> None:
        self.alerts = alerts

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"items": self.alerts.list_low_stock()}
