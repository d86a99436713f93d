"""Retention to S3 on real PostgreSQL and moto's S3 server: archive, verify, delete; a re-run
overwrites the same key; a failed upload deletes nothing; no bucket, nothing deleted; the CLI reads
the archive back. Rows are seeded 400 days old and the windows are 365 days, so other tests' rows
in this process's database are not touched."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text
from structlog.testing import capture_logs
from structlog.typing import EventDict

from core.archive_store import ArchiveStore
from core.clock import utcnow
from db.engine import transaction
from services.retention import Retention
from tests.support import factories
from tests.support.retention_rows import present, seed
from tests.support.s3_server import CREDENTIALS, S3Server, s3_server

WINDOWS = {"webhook": 365, "email": 365, "reservation": 365, "dead_letter": 365}


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)  # boto3's standard chain reads these
    with s3_server() as server:
        yield server
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def bucket_settings(settings, s3):
    return settings.model_copy(update={"aws_s3_bucket": s3.new_bucket(), "aws_endpoint_url": s3.url})


def events(captured: list[EventDict], caplog: pytest.LogCaptureFixture, logger: str) -> list[EventDict]:
    """The service's log events, whether structlog's capture saw them or, when an earlier test
    left this module's logger bound to the standard library, pytest's log capture did."""
    through_stdlib = [r.msg for r in caplog.records if r.name == logger and isinstance(r.msg, dict)]
    return [*captured, *through_stdlib]


def retention(engine, settings, **overrides) -> Retention:
    values = {"windows": WINDOWS, "now": utcnow, **overrides}
    return Retention(factories.units(engine), ArchiveStore.from_settings(settings), **values)


def archived_rows(s3, bucket, table):
    rows = []
    for key in s3.keys(bucket, f"archive/{table}/"):
        body = s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()
        rows += [json.loads(line) for line in gzip.decompress(body).decode().splitlines()]
    return rows


def test_finished_rows_are_archived_verified_and_deleted_and_the_rest_stays(engine, bucket_settings, s3):
    seeded = seed(engine, age_days=400)
    done = retention(engine, bucket_settings).archive_finished_rows()

    assert done["failed"] == []
    assert present(engine, seeded.gone) == {table: [] for table in seeded.gone}
    assert present(engine, seeded.kept) == {t: sorted(ids) for t, ids in seeded.kept.items()}
    bucket = bucket_settings.aws_s3_bucket
    for table, ids in seeded.gone.items():
        column = "checkout_id" if table == "checkout" else "id"
        rows = archived_rows(s3, bucket, table)
        assert set(ids) <= {row[column] for row in rows}, table
    events = {row["id"]: row for row in archived_rows(s3, bucket, "webhook_event")}
    first = events[seeded.gone["webhook_event"][0]]
    assert first["state"] == "processed" and first["payload"]["n"] == 1  # the whole row, JSON intact
    assert first["processed_at"].endswith("+00:00")
    keys = s3.keys(bucket, "archive/webhook_event/")
    assert any(key.endswith(f"{seeded.gone['webhook_event'][1]}.jsonl.gz") for key in keys), keys
    # the object carries its checksum, and the bytes match it
    head = s3.client().head_object(Bucket=bucket, Key=keys[-1])
    assert len(head["Metadata"]["sha256"]) == 64
    # dead letters keep their audit row, naming the archive
    with transaction(engine) as s:
        reason = s.execute(
            text(
                "SELECT reason FROM dead_letter_action WHERE performed_by = 'retention' AND message_id = :m"
            ),
            {"m": archived_rows(s3, bucket, "dead_letter")[-1]["message_id"]},
        ).scalar_one()
    assert reason.startswith("older than 365 days, archived to archive/dead_letter/")


def test_a_rerun_over_the_same_rows_overwrites_the_same_key(engine, bucket_settings, s3):
    """A crash after the upload and before the delete: the next run sees the same rows and writes
    the same key, so the bucket holds one object for them, not two."""
    seeded = seed(engine, age_days=401)
    bucket = bucket_settings.aws_s3_bucket
    from core.rules.retention import archive_key, encode_rows
    from db.queries import retention as q

    # the first run's upload, as a crashed run left it: the object is there, the rows are too
    with transaction(engine) as s:
        rows = q.sent_emails(s, utcnow() - timedelta(days=365), 500)
    key = archive_key("email_outbox", rows, finished=("sent_at",))
    store = ArchiveStore.from_settings(bucket_settings)
    assert store is not None
    encoded = encode_rows(rows)
    store.put_verified(key, encoded.body, encoded.sha256)
    first_modified = s3.client().head_object(Bucket=bucket, Key=key)["LastModified"]

    retention(engine, bucket_settings).archive_finished_rows()

    assert s3.keys(bucket, "archive/email_outbox/") == [key]
    head = s3.client().head_object(Bucket=bucket, Key=key)
    assert head["LastModified"] >= first_modified
    assert head["Metadata"]["sha256"] == encoded.sha256  # the same rows, the same bytes
    assert present(engine, {"email_outbox": seeded.gone["email_outbox"]}) == {"email_outbox": []}


def test_a_failed_upload_deletes_nothing_and_the_next_run_archives_them(engine, bucket_settings, s3, caplog):
    seeded = seed(engine, age_days=402)
    missing_bucket = bucket_settings.model_copy(update={"aws_s3_bucket": "no-such-bucket-backroom"})
    with capture_logs() as logs:
        done = retention(engine, missing_bucket).archive_finished_rows()

    # the checkout is not even a candidate: its reservation, not archived, still references it
    assert set(done["failed"]) == {"webhook_event", "email_outbox", "reservation", "dead_letter"}
    assert present(engine, seeded.gone) == {t: sorted(ids) for t, ids in seeded.gone.items()}
    logged = events(logs, caplog, "backroom.retention")
    failures = [entry for entry in logged if entry["event"] == "retention.upload_failed"]
    assert failures and all(entry.get("log_level", entry.get("level")) == "error" for entry in failures)

    retention(engine, bucket_settings).archive_finished_rows()
    assert present(engine, seeded.gone) == {table: [] for table in seeded.gone}


def test_a_stopped_store_deletes_nothing(engine, settings):
    seeded = seed(engine, age_days=403)
    with s3_server() as dead:
        url = dead.url
    gone_away = settings.model_copy(update={"aws_s3_bucket": "archive", "aws_endpoint_url": url})
    done = retention(engine, gone_away).archive_finished_rows()
    assert "webhook_event" in done["failed"]
    assert present(engine, seeded.gone) == {t: sorted(ids) for t, ids in seeded.gone.items()}
    # leave nothing old behind for the other tests of this module
    with transaction(engine) as s:
        for table in ("reservation", "webhook_event", "email_outbox"):
            s.execute(text(f"DELETE FROM {table} WHERE id = ANY(:ids)"), {"ids": seeded.gone[table]})  # noqa: S608
        s.execute(
            text("DELETE FROM checkout WHERE checkout_id = ANY(:ids)"), {"ids": seeded.gone["checkout"]}
        )
        s.execute(text("DELETE FROM dead_letter WHERE id = ANY(:ids)"), {"ids": seeded.gone["dead_letter"]})


def test_without_a_bucket_nothing_is_deleted_and_one_line_says_retention_is_off(engine, settings, caplog):
    assert settings.aws_s3_bucket is None
    seeded = seed(engine, age_days=404)
    with capture_logs() as logs:
        done = retention(engine, settings, windows={k: 0 for k in WINDOWS}).archive_finished_rows()
    assert done == {"off": True}
    assert present(engine, seeded.gone) == {t: sorted(ids) for t, ids in seeded.gone.items()}
    assert [entry["event"] for entry in events(logs, caplog, "backroom.retention")] == ["retention.off"]


def test_dead_letters_past_retention_are_archived_and_purged_with_an_audit_row(engine, bucket_settings, s3):
    """What the purge-only `dead-letter-retention` did, now through the archive: only entries past
    DEAD_LETTER_RETENTION_DAYS go, each with an audit row."""
    from datetime import UTC, datetime, timedelta

    from db.queries import dead_letters as q
    from tests.support.dead_letters import insert_dead_letter

    def entry(age_days):
        when = datetime.now(UTC) - timedelta(days=age_days)
        return insert_dead_letter(engine, actor="tests.old", first_failed_at=when, last_failed_at=when)

    old, recent = entry(45), entry(2)
    windows = {**WINDOWS, "dead_letter": 30}
    retention(engine, bucket_settings, windows=windows).archive_finished_rows()
    with transaction(engine) as s:
        assert q.get(s, old) is None
        assert q.get(s, recent) is not None
        audit = s.execute(
            text(
                "SELECT reason FROM dead_letter_action WHERE dead_letter_id IS NULL "
                "AND performed_by = 'retention' "
                "AND reason LIKE 'older than 30 days, archived to archive/dead_letter/%'"
            )
        ).all()
    assert audit
    assert old in {row["id"] for row in archived_rows(s3, bucket_settings.aws_s3_bucket, "dead_letter")}


def test_the_cli_lists_and_prints_archives(engine, bucket_settings, s3, cli, monkeypatch, capsys):
    seeded = seed(engine, age_days=405)
    retention(engine, bucket_settings).archive_finished_rows()
    capsys.readouterr()  # the run's own log lines are not the command's output
    monkeypatch.setenv("AWS_S3_BUCKET", bucket_settings.aws_s3_bucket)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3.url)

    code, out = cli("archive", "list", "--table", "webhook_event")
    assert code == 0, out.err
    keys = [line.split()[-1] for line in out.out.splitlines()]
    assert keys and all(key.startswith("archive/webhook_event/") for key in keys)
    code, out = cli("archive", "list", "--since", "2999-01-01")
    assert (code, out.out) == (0, "")

    code, out = cli("archive", "get", keys[-1])
    assert code == 0, out.err
    rows = [json.loads(line) for line in out.out.splitlines()]
    assert set(seeded.gone["webhook_event"]) <= {row["id"] for row in rows}

    code, out = cli("archive", "get", "archive/webhook_event/1999/01/01/1-2.jsonl.gz")
    assert code == 3 and "No archive" in out.err
    monkeypatch.delenv("AWS_S3_BUCKET")
    code, out = cli("archive", "list")
    assert code == 2 and "AWS_S3_BUCKET is not set" in out.err
