"""Schedule tables: one row per fired (or dropped) slot, one per job's operator state, and the
audit of what operators did. The unique (job, slot) key makes any number of schedulers fire a
slot once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.models.columns import timestamp

RUN_STATES = ("not_sent", "sent", "running", "succeeded", "failed", "skipped")


class ScheduleRun(SQLModel, table=True):
    """One slot of a recurring job: claimed (`not_sent`), its message sent, then what the
    worker made of it; or `skipped` by the misfire policy, so no slot goes missing silently."""

    __tablename__ = "schedule_run"
    __table_args__ = (
        UniqueConstraint("job_name", "scheduled_for", name="schedule_run_once_per_slot"),
        CheckConstraint(f"state IN {RUN_STATES!r}", name="schedule_run_state_valid"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    job_name: str = Field(sa_column=Column(String(64), nullable=False))
    scheduled_for: datetime = Field(sa_column=timestamp(default_now=False))
    fired_at: datetime | None = Field(default=None, sa_column=timestamp())
    fired_by: str = Field(sa_column=Column(String(128), nullable=False))
    message_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    state: str = Field(default="sent", sa_column=Column(String(16), nullable=False, server_default="sent"))
    send_attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    started_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True, default_now=False))
    finished_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True, default_now=False))
    dead_letter_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ScheduleState(SQLModel, table=True):
    """What operators decided about a job (paused, by whom, why) and its overdue episode; shared by
    every scheduler, so a pause holds for all of them."""

    __tablename__ = "schedule_state"

    job_name: str = Field(sa_column=Column(String(64), primary_key=True))
    paused: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    paused_by: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    paused_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    paused_at: datetime | None = Field(default=None, sa_column=timestamp(nullable=True, default_now=False))
    # When the job was first scheduled or last resumed: overdue counts from here at the earliest.
    active_since: datetime | None = Field(default=None, sa_column=timestamp())
    overdue_since: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )
    overdue_alerted_at: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )


class ScheduleAction(SQLModel, table=True):
    """Audit: every pause, resume and manual run, with the operator and the reason."""

    __tablename__ = "schedule_action"
    __table_args__ = (CheckConstraint("action IN ('pause', 'resume', 'run')", name="schedule_action_valid"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    job_name: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    action: str = Field(sa_column=Column(String(16), nullable=False))
    by: str = Field(sa_column=Column(String(200), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    at: datetime | None = Field(default=None, sa_column=timestamp())
