"""Retention job family (queue `retention`): archive finished rows to S3, then delete them
(services/retention.py). `retention.dead_letters` is the purge-only job's old wire name, kept
declared for messages still in flight; it runs the same archive."""

from __future__ import annotations

import dramatiq

from core.archive_store import ArchiveStore
from core.clock import utcnow
from services.retention import Retention, retention_windows
from worker.database import database, units_of_work


def _run(broker: dramatiq.Broker) -> None:
    settings = database(broker).settings
    Retention(
        units_of_work(broker), ArchiveStore.from_settings(settings), retention_windows(settings), utcnow
    ).archive_finished_rows()


@dramatiq.actor(actor_name="retention.archive", queue_name="retention", max_retries=3)
def archive_finished_rows() -> None:
    """Archive, verify, then delete each table's finished rows past retention. Bounded per run
    (the next daily run continues); idempotent (the same rows are the same key)."""
    _run(archive_finished_rows.broker)


@dramatiq.actor(actor_name="retention.dead_letters", queue_name="retention", max_retries=3)
def purge_old_dead_letters() -> None:
    """The old purge-only actor's name: messages sent before the upgrade run the archive."""
    _run(purge_old_dead_letters.broker)
