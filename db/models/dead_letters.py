"""The failure ledger: messages out of retries, kept in Postgres for people to work with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from db.models.columns import timestamp


class DeadLetter(SQLModel, table=True):
    """One message that ran out of retries (or failed for good), with everything needed to replay it.

    `fingerprint` groups the same failure: exception type plus the innermost frame in our code.
    """

    __tablename__ = "dead_letter"
    __table_args__ = (
        CheckConstraint("state IN ('dead', 'replayed')", name="dead_letter_state_valid"),
        Index("dead_letter_newest", "last_failed_at"),
        Index("dead_letter_by_fingerprint", "fingerprint", "last_failed_at"),
        Index("dead_letter_by_actor", "actor", "last_failed_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    message_id: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    queue: str = Field(sa_column=Column(String(100), nullable=False))
    actor: str = Field(sa_column=Column(String(200), nullable=False))
    args: list[Any] = Field(sa_column=Column(JSONB, nullable=False))
    kwargs: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    options: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    attempts: int = Field(sa_column=Column(Integer, nullable=False))
    exception_type: str = Field(sa_column=Column(String(200), nullable=False))
    exception_message: str = Field(sa_column=Column(Text, nullable=False))
    traceback: str = Field(sa_column=Column(Text, nullable=False))
    fingerprint: str = Field(sa_column=Column(String(16), nullable=False))
    origin: str = Field(sa_column=Column(Text, nullable=False))
    first_failed_at: datetime = Field(sa_column=timestamp(default_now=False))
    last_failed_at: datetime = Field(sa_column=timestamp(default_now=False))
    state: str = Field(sa_column=Column(String(16), nullable=False, server_default="dead"))
    replay_of: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    replay_count: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class DeadLetterAction(SQLModel, table=True):
    """Audit: who replayed or purged which entry, when and why. Survives the purge it records."""

    __tablename__ = "dead_letter_action"
    __table_args__ = (CheckConstraint("action IN ('replay', 'purge')", name="dead_letter_action_valid"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    dead_letter_id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger, ForeignKey("dead_letter.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    message_id: str = Field(sa_column=Column(String(64), nullable=False))
    action: str = Field(sa_column=Column(String(16), nullable=False))
    performed_by: str = Field(sa_column=Column(String(200), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    forced: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    new_message_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    performed_at: datetime | None = Field(default=None, sa_column=timestamp())
