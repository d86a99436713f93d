"""Retention rules with `now` passed in: cutoff, archive key, batch bounds, deterministic encoding."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.rules.retention import (
    archive_key,
    batch_bounds,
    batch_limit,
    cutoff,
    decode_rows,
    encode_rows,
    parse_key,
    table_prefix,
)

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def test_cutoff_is_now_minus_the_days_and_zero_days_means_everything_finished():
    assert cutoff(30, NOW) == NOW - timedelta(days=30)
    assert cutoff(0, NOW) == NOW
    with pytest.raises(ValueError):
        cutoff(-1, NOW)


def rows(*ids, when=datetime(2026, 10, 1, 23, 30, tzinfo=UTC)):
    return [
        {"id": i, "processed_at": when + timedelta(days=n), "received_at": when} for n, i in enumerate(ids)
    ]


def test_archive_key_is_a_function_of_the_rows_first_rows_date_and_id_bounds():
    batch = rows(7, 9, 12)
    key = archive_key("webhook_event", batch, finished=("processed_at",))
    assert key == "archive/webhook_event/2026/10/01/7-12.jsonl.gz"
    # the same rows another day give the same key: a re-run overwrites, never duplicates
    assert archive_key("webhook_event", list(batch), finished=("processed_at",)) == key


def test_archive_key_date_is_utc_and_falls_back_when_the_finished_column_is_empty():
    late_evening_in_new_york = datetime(2026, 10, 1, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    batch = [{"id": 3, "processed_at": late_evening_in_new_york}]
    assert archive_key("webhook_event", batch, finished=("processed_at",)).startswith(
        "archive/webhook_event/2026/10/02/"
    )
    unfinished = [{"id": 4, "processed_at": None, "received_at": datetime(2025, 1, 2, tzinfo=UTC)}]
    assert (
        archive_key("webhook_event", unfinished, finished=("processed_at", "received_at"))
        == "archive/webhook_event/2025/01/02/4-4.jsonl.gz"
    )
    with pytest.raises(ValueError):
        archive_key("webhook_event", unfinished, finished=("processed_at",))


def test_batch_bounds_and_limit():
    assert batch_bounds([{"checkout_id": "co-a"}, {"checkout_id": "co-z"}], "checkout_id") == ("co-a", "co-z")
    with pytest.raises(ValueError):
        batch_bounds([])
    assert batch_limit(0, batch_size=50, max_batches=2) == 50
    assert batch_limit(1, batch_size=50, max_batches=2) == 50
    assert batch_limit(2, batch_size=50, max_batches=2) == 0


def test_encoding_is_deterministic_gzip_json_lines_with_sorted_keys_and_iso_datetimes():
    batch = [{"b": 1, "a": NOW, "payload": {"z": 1, "y": [1, 2]}}, {"a": None, "b": 2}]
    one, two = encode_rows(batch), encode_rows([dict(reversed(list(r.items()))) for r in batch])
    assert one.body == two.body  # key order does not matter, nor the time of encoding
    assert one.sha256 == hashlib.sha256(one.body).hexdigest() and one.size == len(one.body)
    lines = gzip.decompress(one.body).decode().splitlines()
    assert lines[0] == json.dumps(
        {"a": "2026-11-22T03:00:00+00:00", "b": 1, "payload": {"y": [1, 2], "z": 1}},
        sort_keys=True,
        separators=(",", ":"),
    )
    assert decode_rows(one.body) == [
        {"a": "2026-11-22T03:00:00+00:00", "b": 1, "payload": {"y": [1, 2], "z": 1}},
        {"a": None, "b": 2},
    ]
    assert encode_rows(batch[:1]).sha256 != one.sha256


def test_parse_key_reads_table_and_date_and_refuses_other_keys():
    parts = parse_key("archive/checkout/2026/10/01/co-1-a-co-9-b.jsonl.gz")
    assert parts is not None and parts.table == "checkout" and parts.day.isoformat() == "2026-10-01"
    assert parse_key("archive/checkout/2026/13/01/1-2.jsonl.gz") is None
    assert parse_key("archive/checkout/2026/10/01/notes.txt") is None
    assert table_prefix(None) == "archive/" and table_prefix("dead_letter") == "archive/dead_letter/"
