"""`backroom stock low`: the products at or below their low-stock threshold now, with when each
was alerted, over services/alerts.LowStockAlerts (the same rows as GET /v1/admin/low-stock).
`backroom stock recount`: reserved counters set back to their active holds (services/products.py)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from cli.tables import print_table
from core.clock import utcnow
from core.logging import configure_logging
from core.settings import load_settings
from db.engine import make_engine
from db.unit_of_work import UnitsOfWork
from services.alerts import LowStockAlerts
from services.products import Products
from worker.broker import build_broker
from worker.messages import BrokerSender

COLUMNS = ("sku", "name", "stock", "available", "threshold", "alerted_at")


def add_parser(sub: Any) -> None:
    stock = sub.add_parser("stock", help="stock on hand: products low on stock, reserved counters")
    actions = stock.add_subparsers(dest="stock_command", required=True)
    low = actions.add_parser("low", help="products at or below their threshold now, out of stock first")
    low.add_argument("--json", action="store_true", help="machine-readable")
    low.set_defaults(func=run_low)
    recount = actions.add_parser(
        "recount", help="set reserved counters that drifted back to their active holds"
    )
    recount.set_defaults(func=run_recount)


def run_low(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings)  # logs to stderr; stdout carries the command's output
    units = UnitsOfWork(make_engine(settings), BrokerSender(build_broker(settings)))
    rows = LowStockAlerts(units, settings, utcnow).list_low_stock()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no product is at or below its low-stock threshold")
        return 0
    print_table(COLUMNS, [[_cell(row, column) for column in COLUMNS] for row in rows])
    return 0


def run_recount(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings)
    units = UnitsOfWork(make_engine(settings), BrokerSender(build_broker(settings)))
    fixed = Products(units, settings, utcnow).recount_reserved()
    for sku, (was, now) in sorted(fixed.items()):
        print(f"{sku}: reserved {was} -> {now}")
    print(f"{len(fixed)} counter(s) repaired")
    return 0


def _cell(row: dict[str, Any], column: str) -> str:
    if column == "stock" and row["out_of_stock"]:
        return "0 (OUT)"
    if column == "alerted_at":
        when = row["alerted_at"]
        return (
            datetime.fromisoformat(when).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if when else "not yet"
        )
    if column == "name":
        return str(row["name"])[:40]
    return str(row[column])
