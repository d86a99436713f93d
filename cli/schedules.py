"""`backroom schedules list|pause|resume|run`: the recurring jobs for operators, over the schedule
services, built here from settings (the command line's composition root for them).

An unknown job is the services' ScheduleNotFound, mapped to a message and exit code 3 by main()."""

from __future__ import annotations

import argparse
import getpass
import json
from datetime import UTC, datetime
from typing import Any

from cli.tables import print_table
from core.clock import utcnow
from core.logging import configure_logging
from core.schedule_table import schedule_table
from core.settings import load_settings
from db.engine import make_engine
from db.unit_of_work import UnitsOfWork
from services.operations import Operations
from services.schedule_controls import ScheduleControls
from worker.broker import build_broker
from worker.messages import BrokerSender

COLUMNS = ("job", "trigger", "paused", "next_run", "last_success", "overdue", "last_run")


def add_parser(sub: Any) -> None:
    schedules = sub.add_parser("schedules", help="recurring jobs: list, pause, resume, run now")
    actions = schedules.add_subparsers(dest="schedules_command", required=True)
    listing = actions.add_parser("list", help="trigger, pause, next run, last success, overdue")
    listing.add_argument("--json", action="store_true", help="machine-readable, with recent runs")
    listing.set_defaults(func=run_list)
    for name, help_text in (
        ("pause", "stop firing it, for every scheduler, until resumed"),
        ("resume", "fire again; missed slots follow its misfire policy"),
        ("run", "enqueue it now, paused or not: prints the message id"),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("job")
        action.add_argument("--reason", help="recorded in the audit")
        action.add_argument("--by", help="who, for the audit (default: cli:<OS user>)")
        action.set_defaults(func=run_action)


def _services() -> tuple[Operations, ScheduleControls]:
    """Settings from the environment, and the schedule services on one engine and broker."""
    settings = load_settings()
    configure_logging(settings)  # logs to stderr; stdout carries the command's output
    broker = build_broker(settings)
    units = UnitsOfWork(make_engine(settings), BrokerSender(broker))
    return (
        Operations(units, broker, settings, utcnow),
        ScheduleControls(units, utcnow, schedule_table(settings)),
    )


def run_list(args: argparse.Namespace) -> int:
    operations, _controls = _services()
    rows = operations.schedule_rows()
    if args.json:
        print(json.dumps(rows, default=str, indent=2))
        return 0
    print_table(COLUMNS, [[_cell(row, column) for column in COLUMNS] for row in rows])
    return 0


def _cell(row: dict[str, Any], column: str) -> str:
    if column == "paused":
        if not row["paused"]:
            return "no"
        why = f": {row['paused_reason']}" if row["paused_reason"] else ""
        return f"yes (by {row['paused_by']}{why})"[:80]
    if column == "overdue":
        return "OVERDUE" if row["overdue"] else "no"
    if column == "last_run":
        return row["recent_runs"][0]["state"] if row["recent_runs"] else "-"
    if column in ("next_run", "last_success"):
        return _when(row[column])
    return str(row[column])


def _when(iso: str | None) -> str:
    if not iso:
        return "-"
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def run_action(args: argparse.Namespace) -> int:
    _operations, controls = _services()
    by = args.by or f"cli:{getpass.getuser()}"
    command, job = args.schedules_command, args.job
    if command == "pause":
        controls.pause(job, by=by, reason=args.reason)
        print(f"paused {job}")
    elif command == "resume":
        controls.resume(job, by=by, reason=args.reason)
        print(f"resumed {job}")
    else:
        print(controls.run_now(job, by=by, reason=args.reason))
    return 0
