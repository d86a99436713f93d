"""The schedule table: which recurring job fires how often. Pure values, no IO."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from core.settings import Settings


@dataclass(frozen=True)
class Schedule:
    job: str
    every_seconds: int
    offset_seconds: int = 0

    def slot(self, now: datetime) -> datetime:
        """The start of the period `now` falls in; two schedulers firing late agree on it."""
        epoch = int(now.timestamp())
        start = (epoch - self.offset_seconds) // self.every_seconds * self.every_seconds + self.offset_seconds
        return datetime.fromtimestamp(start, UTC)

    def anchor(self) -> datetime:
        """First fire time, aligned to the slot grid."""
        return datetime.fromtimestamp(self.offset_seconds, UTC)


def schedule_table(settings: Settings) -> list[Schedule]:
    """Recurring jobs that exist so far (later job families add their rows)."""
    return [
        Schedule("stock-cleanup", settings.stock_cleanup_interval_minutes * 60),
        Schedule("reconcile", 60),
        Schedule("dead-letter-retention", 86400, offset_seconds=3 * 3600),  # daily at 03:00 UTC
    ]
