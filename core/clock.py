"""The one place that reads the wall clock; rules take `now` as a value."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
