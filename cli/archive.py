"""`backroom archive list|get`: read the retention archive in S3 without the AWS console, over
services/retention.Archives, built here from settings (AWS_S3_BUCKET, AWS_REGION,
AWS_ENDPOINT_URL, the standard AWS credential chain).

`list` prints one archive object a line (date, table, size, key), `--json` for machines; `get KEY`
prints the object's rows as JSON lines. No bucket configured exits 2; an unknown key exits 3."""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from core.archive_store import ArchiveStore
from core.errors import Invalid
from core.logging import configure_logging
from core.settings import load_settings
from services.retention import TABLE_NAMES, Archives


def add_parser(sub: Any) -> None:
    archive = sub.add_parser("archive", help="the retention archive in S3: list, get")
    actions = archive.add_subparsers(dest="archive_command", required=True)
    listing = actions.add_parser("list", help="archive objects, oldest first")
    listing.add_argument("--table", choices=TABLE_NAMES, help="only this table's archives")
    listing.add_argument("--since", type=date.fromisoformat, help="rows' date on or after YYYY-MM-DD")
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    listing.set_defaults(func=run_list)
    get = actions.add_parser("get", help="print an archive's rows as JSON lines")
    get.add_argument("key", help="e.g. archive/webhook_event/2026/10/01/1-500.jsonl.gz")
    get.set_defaults(func=run_get)


def _archives() -> Archives:
    settings = load_settings()
    configure_logging(settings)  # logs to stderr; stdout carries the command's output
    store = ArchiveStore.from_settings(settings)
    if store is None:
        raise Invalid("AWS_S3_BUCKET is not set: there is no archive to read")
    return Archives(store)


def run_list(args: argparse.Namespace) -> int:
    items = _archives().list_archives(args.table, args.since)
    for item in items:
        if args.json:
            print(json.dumps(item, sort_keys=True))
        else:
            print(f"{item['date']}  {item['table']:<14} {item['size']:>10}  {item['key']}")
    return 0


def run_get(args: argparse.Namespace) -> int:
    for row in _archives().read_archive(args.key):
        print(json.dumps(row, sort_keys=True))
    return 0
