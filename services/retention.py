"""Retention to S3: archive finished rows, then delete them (the `retention` job), and read the
archives back (`backroom archive list|get`).

For each table, in bounded batches: read the oldest finished rows past the table's retention
(in id order), encode them (core/rules/retention.py), upload them under a key that is a function of
the rows, read the object back (size and sha256), and only then delete exactly those ids. A failed
or unconfirmed upload deletes nothing and stops that table for this run (logged; the next run
tries again and, seeing the same rows, writes the same key). With no bucket configured nothing is
deleted and each run logs once that retention is off.

Dead letters go the same way; each is deleted through `DeadLetters.purge`, so it keeps its audit
row (`performed_by = 'retention'`, the archive key in the reason) and closes an intent still in its
first state, exactly as the purge-only retention did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from core.archive_store import ArchiveNotConfirmed, ArchiveStore
from core.errors import Invalid
from core.logging import get_logger
from core.rules.retention import (
    BATCH_SIZE,
    MAX_BATCHES,
    archive_key,
    batch_limit,
    cutoff,
    decode_rows,
    encode_rows,
    parse_key,
    table_prefix,
)
from core.settings import Settings
from db.queries import retention as q
from db.unit_of_work import UnitsOfWork
from services.dead_letters import DeadLetterNotFound, DeadLetters

log = get_logger("backroom.retention")


@dataclass(frozen=True)
class Table:
    name: str
    window: str  # which retention setting applies
    id_field: str
    finished: tuple[str, ...]  # the key's date: the first row's first of these that is set
    select: Callable[[Session, datetime, int], list[dict[str, Any]]]
    delete: Callable[[Session, list[Any], datetime], int] | None  # None: dead letters, purged one by one


# In this order: reservations before the checkouts they reference.
TABLES = (
    Table(
        "webhook_event",
        "webhook",
        "id",
        ("processed_at", "received_at"),
        q.finished_webhook_events,
        q.delete_webhook_events,
    ),
    Table("email_outbox", "email", "id", ("sent_at",), q.sent_emails, q.delete_sent_emails),
    Table(
        "reservation",
        "reservation",
        "id",
        ("ended_at", "expires_at"),
        q.ended_reservations,
        q.delete_ended_reservations,
    ),
    Table(
        "checkout",
        "reservation",
        "checkout_id",
        ("updated_at",),
        q.closed_checkouts,
        q.delete_closed_checkouts,
    ),
    Table("dead_letter", "dead_letter", "id", ("last_failed_at",), q.old_dead_letters, None),
)
TABLE_NAMES = tuple(table.name for table in TABLES)


def retention_windows(settings: Settings) -> dict[str, int]:
    """Days each kind of row is kept (0: archived as soon as it is finished)."""
    return {
        "webhook": settings.webhook_retention_days,
        "email": settings.email_retention_days,
        "reservation": settings.reservation_retention_days,
        "dead_letter": settings.dead_letter_retention_days,
    }


@dataclass(frozen=True)
class Retention:
    units: UnitsOfWork
    store: ArchiveStore | None
    windows: Mapping[str, int]
    now: Callable[[], datetime]
    batch_size: int = BATCH_SIZE
    max_batches: int = MAX_BATCHES

    def archive_finished_rows(self) -> dict[str, Any]:
        """Archive then delete every table's finished rows past retention: rows deleted per table,
        and the tables stopped by a failed upload. Idempotent; bounded per run."""
        if self.store is None:
            log.warning("retention.off", reason="AWS_S3_BUCKET is not set: nothing archived or deleted")
            return {"off": True}
        now = self.now()
        deleted: dict[str, int] = {}
        failed: list[str] = []
        for table in TABLES:
            days = self.windows[table.window]
            count, ok = self._archive_table(self.store, table, cutoff(days, now), days)
            deleted[table.name] = count
            if not ok:
                failed.append(table.name)
        log.info("retention.done", deleted=deleted, failed=failed)
        return {"deleted": deleted, "failed": failed}

    def _archive_table(
        self, store: ArchiveStore, table: Table, before: datetime, days: int
    ) -> tuple[int, bool]:
        total, batches = 0, 0
        while limit := batch_limit(batches, self.batch_size, self.max_batches):
            batches += 1
            with self.units.begin() as uow:
                rows = table.select(uow.session, before, limit)
            if not rows:
                break
            key = archive_key(table.name, rows, finished=table.finished, id_field=table.id_field)
            encoded = encode_rows(rows)
            try:
                store.put_verified(key, encoded.body, encoded.sha256)
            except ArchiveNotConfirmed as error:
                log.error(
                    "retention.upload_failed", table=table.name, key=key, rows=len(rows), error=str(error)
                )
                return total, False
            ids = [row[table.id_field] for row in rows]
            gone = self._delete(table, ids, before, f"older than {days} days, archived to {key}")
            log.info("retention.archived", table=table.name, key=key, rows=len(rows), deleted=gone)
            total += gone
            if gone == 0:  # every row changed since it was read: nothing more to do this run
                break
            if len(rows) < limit:
                break
        return total, True

    def _delete(self, table: Table, ids: list[Any], before: datetime, reason: str) -> int:
        if table.delete is not None:
            with self.units.begin() as uow:
                return table.delete(uow.session, ids, before)
        dead_letters, gone = DeadLetters(self.units), 0
        for dead_letter_id in ids:
            try:
                dead_letters.purge(int(dead_letter_id), by="retention", reason=reason)
                gone += 1
            except DeadLetterNotFound:
                pass
        return gone


@dataclass(frozen=True)
class Archives:
    """Reading the archive for on-call: list keys, print an object's rows."""

    store: ArchiveStore

    def list_archives(self, table: str | None = None, since: date | None = None) -> list[dict[str, Any]]:
        """Archive objects (key, table, date, size, stored at), oldest date first; `since` keeps
        objects whose rows' date is on or after it."""
        if table is not None and table not in TABLE_NAMES:
            raise Invalid(f"unknown table {table!r}; archived tables: {', '.join(TABLE_NAMES)}")
        found = []
        for stored in self.store.list(table_prefix(table)):
            parts = parse_key(stored.key)
            if parts is None or (since is not None and parts.day < since):
                continue
            found.append(
                {
                    "key": stored.key,
                    "table": parts.table,
                    "date": parts.day.isoformat(),
                    "size": stored.size,
                    "stored_at": stored.last_modified.isoformat(),
                }
            )
        return sorted(found, key=lambda item: (item["date"], item["key"]))

    def read_archive(self, key: str) -> list[dict[str, Any]]:
        """The rows of one archive object (ArchiveNotFound if there is none)."""
        return decode_rows(self.store.get(key))
