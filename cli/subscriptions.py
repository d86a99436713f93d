"""`backroom subscriptions list|show|retry`: premium subscriptions for on-call, over
services/subscriptions.Subscriptions. An unknown id exits 3, a retry of a subscription that is
not past due or lapsed exits 4 (the error tree's codes, mapped by cli.main)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cli.tables import print_table

STATES = ("past_due", "lapsed")
COLUMNS = ("subscription", "state", "step", "next_attempt", "period_end", "amount", "plan", "last_decline")


def add_parser(sub: Any) -> None:
    subscriptions = sub.add_parser("subscriptions", help="premium subscriptions: list, show, retry")
    actions = subscriptions.add_subparsers(dest="subscriptions_command", required=True)
    listing = actions.add_parser("list", help="past-due and lapsed subscriptions, the longest unpaid first")
    listing.add_argument("--state", choices=STATES, help="one kind (default: both)")
    listing.add_argument("--limit", type=int, default=100, choices=range(1, 501), metavar="1-500")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run_list)
    show = actions.add_parser("show", help="one subscription with its charges and attempts")
    show.add_argument("subscription_id")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(func=run_show)
    retry = actions.add_parser("retry", help="try a past-due or lapsed subscription's card again now")
    retry.add_argument("subscription_id")
    retry.set_defaults(func=run_retry)


@contextmanager
def _service() -> Iterator[Any]:
    """The services (storefront's, operators') on their own engine, disposed when done."""
    # Imported here, as every command does, so `backroom --help` stays fast.
    from core.clock import utcnow
    from core.logging import configure_logging
    from core.settings import load_settings
    from db.engine import make_engine
    from db.unit_of_work import UnitsOfWork
    from services.subscription_issues import SubscriptionIssues
    from services.subscriptions import Subscriptions
    from worker.broker import build_broker
    from worker.messages import BrokerSender

    settings = load_settings()
    configure_logging(settings)  # logs to stderr; stdout carries the command's output
    engine = make_engine(settings)
    try:
        units = UnitsOfWork(engine, BrokerSender(build_broker(settings)))
        yield Subscriptions(units, settings, utcnow), SubscriptionIssues(units, utcnow)
    finally:
        engine.dispose()


def _when(value: str | None) -> str:
    return value[:19].replace("T", " ") if value else "-"


def run_list(args: argparse.Namespace) -> int:
    with _service() as (_, issues):
        rows = issues.needing_a_person(args.state, limit=args.limit)
    if args.json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print("No subscription needs a person.")
    else:
        cells = [
            [
                row["subscription_id"],
                row["state"],
                str(row["dunning_step"]),
                _when(row["next_attempt_at"]),
                _when(row["current_period_end"]),
                f"{row['amount']} {row['currency']}",
                row["plan"][:40],
                _decline(row["last_decline"]),
            ]
            for row in rows
        ]
        print_table(COLUMNS, cells)
    return 0


def _decline(decline: dict[str, Any] | None) -> str:
    if decline is None:
        return "-"
    # One line per subscription whatever the gateway put in its message.
    text = ": ".join(part for part in (decline["code"], decline["message"]) if part)
    return " ".join(text.split())[:80]


def run_show(args: argparse.Namespace) -> int:
    with _service() as (subscriptions, _):
        view = subscriptions.get(args.subscription_id)
    print(json.dumps(view, indent=2) if args.json else readable(view))
    return 0


def run_retry(args: argparse.Namespace) -> int:
    with _service() as (_, issues):
        view = issues.retry_now(args.subscription_id)
    print(f"{view['subscription_id']}: {view['state']}, next attempt {_when(view['next_attempt_at'])}")
    return 0


def readable(view: dict[str, Any]) -> str:
    """The subscription, then its charges newest first, each with its attempts."""
    ending = " (cancels at period end)" if view["cancel_at_period_end"] else ""
    lines = [
        f"subscription  {view['subscription_id']}",
        f"state         {view['state']}{ending}",
        f"plan          {view['plan']}: {view['amount']} {view['currency']} a {view['interval']}",
        f"customer      {view['email']} ({view['gateway']} {view['customer_ref']})",
        f"card          {view['payment_method_ref']}",
        f"period ends   {_when(view['current_period_end'])}",
        f"next attempt  {_when(view['next_attempt_at'])}  dunning step {view['dunning_step']}",
        "charges" if view["charges"] else "charges       none yet",
    ]
    for charge in view["charges"]:
        lines.append(
            f"  {_when(charge['period_start'])} -> {_when(charge['period_end'])}  {charge['state']}  "
            f"{charge['amount']} {charge['currency']}  {charge['gateway_reference'] or '-'}"
        )
        for attempt in charge["attempts"]:
            decline = _decline({"code": attempt["decline_code"], "message": attempt["decline_message"]})
            lines.append(
                f"    #{attempt['number']} {attempt['state']}  {_when(attempt['started_at'])}  "
                f"{attempt['gateway_reference'] or '-'}  {decline}"
            )
    return "\n".join(lines)
