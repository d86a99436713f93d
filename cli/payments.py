"""`backroom payments list`: the payments a person must look at (services/payments.PaymentIssues)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

STATES = ("needs_attention", "unmatched")
COLUMNS = ("state", "id", "created_at", "provider", "payment_id", "paid", "owed", "reason")


def add_parser(sub: Any) -> None:
    payments = sub.add_parser("payments", help="payments that need a person")
    actions = payments.add_subparsers(dest="payments_command", required=True)
    listing = actions.add_parser(
        "list", help="orders needing attention and unmatched payments: paid, owed, why, newest first"
    )
    listing.add_argument("--state", choices=STATES, help="one kind (default: both)")
    listing.add_argument("--limit", type=_limit, default=100, help="at most this many rows (1-500, 100)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run_payments)


def _limit(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 500:
        raise argparse.ArgumentTypeError("must be between 1 and 500")
    return number


def money(value: dict[str, Any]) -> str:
    """`100 USD` (minor units, as the provider and the order note give them), `-` when unknown."""
    if value["amount"] is None:
        return "-"
    return f"{value['amount']} {value['currency'] or ''}".strip()


def table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "Nothing needs a person."
    cells = [
        [
            row["state"],
            row["id"],
            row["created_at"][:19].replace("T", " "),
            row["provider"],
            row["payment_id"] or "-",
            money(row["paid"]),
            money(row["owed"]),
            # One line per payment whatever the provider or a note put in the text.
            " ".join(row["reason"].split())[:100],
        ]
        for row in rows
    ]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def run_payments(args: argparse.Namespace) -> int:
    # Imported here, as every command does, so `backroom --help` stays fast.
    from core.logging import configure_logging
    from core.settings import load_settings
    from db.engine import make_engine
    from db.unit_of_work import UnitsOfWork
    from services.payments import PaymentIssues
    from worker.broker import build_broker
    from worker.messages import BrokerSender

    settings = load_settings()
    configure_logging(settings)  # logs to stderr; stdout carries the command's output
    engine = make_engine(settings)
    issues = PaymentIssues(UnitsOfWork(engine, BrokerSender(build_broker(settings))))
    try:
        rows = issues.payments_needing_attention(args.state, limit=args.limit)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(table(rows))
        if len(rows) == args.limit:
            print(f"(first {args.limit}; raise --limit, or page with the API's offset)", file=sys.stderr)
    return 0
