"""Column helpers shared by the tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, text

ID_LENGTH = 64


def timestamp(*, nullable: bool = False, default_now: bool = True) -> Column[datetime]:
    return Column(
        DateTime(timezone=True),
        nullable=nullable,
        server_default=text("now()") if default_now else None,
    )
