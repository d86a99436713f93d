"""`backroom dlq ...` and `backroom queues`: the on-call CLI over the dead-letter and operations
services, built here from settings (the command line's composition root for them)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import datetime
from typing import Any

import dramatiq

from cli.payments import add_parser as add_payments_parser
from core.clock import utcnow
from core.logging import configure_logging
from core.settings import Settings, load_settings
from db.engine import make_engine
from db.queries.dead_letters import FILTER_KEYS, Filter
from db.unit_of_work import UnitsOfWork
from services.dead_letter_batches import DeadLetterBatches
from services.dead_letters import AlreadyReplayed, DeadLetters
from services.operations import Operations
from worker.broker import build_broker
from worker.messages import BrokerSender


def add_parsers(sub: Any) -> None:
    dlq = sub.add_parser("dlq", help="dead letters: list, show, replay, purge, stats")
    actions = dlq.add_subparsers(dest="dlq_command", required=True)
    for name, help_text in (
        ("list", "newest first"),
        ("stats", "counts by fingerprint"),
        ("replay", "replay one (ID) or every match"),
        ("purge", "purge one (ID) or every match"),
    ):
        p = actions.add_parser(name, help=help_text)
        if name in ("replay", "purge"):
            p.add_argument("id", nargs="?", type=int, help="one entry; omit to act on every match")
            p.add_argument("--dry-run", action="store_true", help="count and sample, change nothing")
            p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
            p.add_argument("--reason", help="recorded in the audit")
            p.add_argument("--all", action="store_true", help="allow acting with no filter at all")
        if name == "replay":
            p.add_argument("--force", action="store_true", help="replay entries already replayed")
        p.add_argument("--actor")
        p.add_argument("--queue")
        p.add_argument("--exception", dest="exception_type")
        p.add_argument("--fingerprint")
        p.add_argument("--state", choices=("dead", "replayed"))
        p.add_argument("--since", type=datetime.fromisoformat, help="ISO time with offset")
        p.add_argument("--until", type=datetime.fromisoformat, help="ISO time with offset")
        p.add_argument("--limit", type=int, default=50 if name == "list" else 1000)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(func=run_dlq)
    show = actions.add_parser("show", help="one entry with its traceback and replay history")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=run_dlq)
    queues = sub.add_parser("queues", help="per queue: ready, delayed, in flight, dead, oldest age")
    queues.add_argument("--json", action="store_true")
    queues.set_defaults(func=run_queues)
    add_payments_parser(sub)


def _wiring() -> tuple[Settings, UnitsOfWork, dramatiq.Broker]:
    """Settings from the environment, and what the services here are built on."""
    settings = load_settings()
    configure_logging(settings)  # logs to stderr; stdout carries the command's output
    engine, broker = make_engine(settings), build_broker(settings)
    return settings, UnitsOfWork(engine, BrokerSender(broker)), broker


def _print(data: Any, as_json: bool, columns: tuple[str, ...] = ()) -> None:
    if as_json or not columns:
        print(json.dumps(data, default=str, indent=2))
        return
    rows = [["-" if row.get(c) is None else str(row.get(c, "")) for c in columns] for row in data]
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(v[:80].ljust(w) for v, w in zip(row, widths, strict=True)))


def _confirm(question: str, args: argparse.Namespace) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print("backroom: refusing without --yes when not on a terminal", file=sys.stderr)
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def run_dlq(args: argparse.Namespace) -> int:
    _settings, units, _broker = _wiring()
    service = DeadLetters(units)
    by = f"cli:{getpass.getuser()}"
    command = args.dlq_command
    try:
        if command == "show":
            _print(service.show(args.id), True)
            return 0
        where = Filter(**{k: getattr(args, k) for k in FILTER_KEYS})
        if command == "list":
            _print(
                service.page(where, limit=args.limit)["items"],
                args.json,
                (
                    "id",
                    "last_failed_at",
                    "actor",
                    "queue",
                    "attempts",
                    "exception_type",
                    "state",
                    "fingerprint",
                ),
            )
        elif command == "stats":
            _print(
                service.groups(where), args.json, ("fingerprint", "count", "dead", "exception_type", "origin")
            )
        elif args.id is not None and args.dry_run:
            entry = service.show(args.id)
            print(f"would {command} dead letter {entry['id']} ({entry['actor']}, state {entry['state']})")
        elif args.id is not None:
            if command == "replay":
                print(service.replay(args.id, by=by, reason=args.reason, force=args.force))
            else:
                service.purge(args.id, by=by, reason=args.reason)
                print(f"purged {args.id}")
        else:
            return _bulk(DeadLetterBatches(service, utcnow), where, args, by)
    except AlreadyReplayed as error:  # in the command line's words: its flag, not the API's field
        print(
            f"backroom: dead letter {error.dead_letter_id} was already replayed; use --force", file=sys.stderr
        )
        return 1
    return 0


def _bulk(service: DeadLetterBatches, where: Filter, args: argparse.Namespace, by: str) -> int:
    if where.is_empty() and not args.all:
        print("backroom: name a filter (or --all) to act on many entries", file=sys.stderr)
        return 2
    act: Any = service.replay_many if args.dlq_command == "replay" else service.purge_many
    options = {"force": args.force} if args.dlq_command == "replay" else {}
    preview = act(where, by=by, reason=args.reason, dry_run=True, limit=args.limit, **options)
    if args.dry_run:
        _print(preview, args.json)
        return 0
    if not _confirm(f"{args.dlq_command} {preview['would_affect']} dead letters?", args):
        return 1
    _print(act(where, by=by, reason=args.reason, limit=args.limit, **options), True)
    return 0


def run_queues(args: argparse.Namespace) -> int:
    settings, units, broker = _wiring()
    _print(
        Operations(units, broker, settings, utcnow).queue_table(),
        args.json,
        ("queue", "ready", "delayed", "in_flight", "dead", "dead_in_broker", "oldest_age_seconds"),
    )
    return 0
