"""Retention to S3, the pure part: which rows are old enough, the archive key of a batch, and the
bytes a batch becomes. No IO; the time is passed in.

The key is a function of the rows, never of the run: `archive/{table}/{YYYY}/{MM}/{DD}/
{first_id}-{last_id}.jsonl.gz`, where the date is the first row's finished time (UTC; rows are in
id order) and the ids are the batch's first and last. A run that crashed after its upload and
before its delete selects the same rows again, so it writes the same key: the object is
overwritten, never duplicated. Encoding is deterministic (sorted keys, ISO datetimes, gzip with no
name and mtime 0), so the same rows are the same bytes and the same checksum.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

PREFIX = "archive"
BATCH_SIZE = 500  # rows a batch (one object, one delete)
MAX_BATCHES = 200  # batches a table a run; the next daily run continues

KEY_PATTERN = re.compile(
    r"^archive/(?P<table>[a-z_]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/"
    r"[^/]+-[^/]+\.jsonl\.gz$"
)


def cutoff(days: int, now: datetime) -> datetime:
    """Rows finished before this go. 0 days: everything finished up to now."""
    if days < 0:
        raise ValueError("retention days cannot be negative")
    return now - timedelta(days=days)


def batch_bounds(rows: Sequence[Mapping[str, Any]], id_field: str = "id") -> tuple[str, str]:
    """First and last id of a batch in id order (the caller's query orders by id)."""
    if not rows:
        raise ValueError("an empty batch has no bounds")
    return str(rows[0][id_field]), str(rows[-1][id_field])


def batch_limit(done: int, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES) -> int:
    """How many rows the next batch may take after `done` batches this run: 0 means stop."""
    return batch_size if done < max_batches else 0


def archive_key(
    table: str, rows: Sequence[Mapping[str, Any]], *, finished: Sequence[str], id_field: str = "id"
) -> str:
    """`archive/{table}/{YYYY}/{MM}/{DD}/{first_id}-{last_id}.jsonl.gz`, the date from the first
    row's finished time in UTC: the first of the `finished` columns that is set (a fallback such
    as `received_at` for rows settled before their finished column was filled)."""
    first, last = batch_bounds(rows, id_field)
    when = next((rows[0][f] for f in finished if rows[0].get(f) is not None), None)
    if not isinstance(when, datetime):
        raise ValueError(f"{table}: the first row has none of {', '.join(finished)}")
    day = when.astimezone(UTC) if when.tzinfo else when
    return f"{PREFIX}/{table}/{day:%Y/%m/%d}/{first}-{last}.jsonl.gz"


@dataclass(frozen=True)
class KeyParts:
    """What a key says for listing. Its ids are not split back out: checkout ids may hold `-`."""

    table: str
    day: date


def parse_key(key: str) -> KeyParts | None:
    """The parts of an archive key; None for anything else under the bucket."""
    match = KEY_PATTERN.match(key)
    if match is None:
        return None
    try:
        day = date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return None
    return KeyParts(match["table"], day)


def table_prefix(table: str | None) -> str:
    return f"{PREFIX}/{table}/" if table else f"{PREFIX}/"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot archive a {type(value).__name__}")


@dataclass(frozen=True)
class Encoded:
    body: bytes
    sha256: str  # hex
    size: int


def encode_rows(rows: Sequence[Mapping[str, Any]]) -> Encoded:
    """gzip JSON lines, one row a line, keys sorted, datetimes ISO 8601: the same rows, the same bytes."""
    lines = "".join(
        json.dumps(dict(row), sort_keys=True, default=_plain, separators=(",", ":")) + "\n" for row in rows
    )
    body = gzip.compress(lines.encode(), compresslevel=6, mtime=0)
    return Encoded(body, hashlib.sha256(body).hexdigest(), len(body))


def decode_rows(body: bytes) -> list[dict[str, Any]]:
    """The rows of an archive object (datetimes stay ISO strings)."""
    return [json.loads(line) for line in gzip.decompress(body).decode().splitlines() if line]


def checksum(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
