"""Premium subscription rules: period arithmetic, what a renewal run does, dunning, reminders.

Pure functions of their arguments; the time is passed in. services/renewals.py and
services/subscriptions.py act on the decisions; the rows make them hold under concurrency.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

Interval = Literal["month", "year"]


def next_period_end(end: datetime, interval: Interval, anchor_day: int) -> datetime:
    """The end of the period that starts at `end`: one month or year later, on `anchor_day` or
    the month's last day if it is shorter (Jan 31 -> Feb 28/29 -> Mar 31), same time of day.
    Counted in UTC, like `anchor_day`: the database may answer in another zone (its TimeZone)."""
    end = end.astimezone(UTC)
    months = 1 if interval == "month" else 12
    index = end.year * 12 + (end.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = min(anchor_day, calendar.monthrange(year, month)[1])
    return end.replace(year=year, month=month, day=day)


def idempotency_key(subscription_id: str, period_start: datetime, attempt: int) -> str:
    """The gateway's idempotency key of one attempt: a new key a try, the same key on a repeat."""
    return f"renewal/{subscription_id}/{iso_utc(period_start)}/{attempt}"


def reminder_key(subscription_id: str, period_end: datetime) -> str:
    return f"reminder/{subscription_id}/{iso_utc(period_end)}"


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class NotDue:
    reason: str


@dataclass(frozen=True)
class EndAtPeriodEnd:
    """A cancelled subscription reached its period's end: it ends, nothing is charged."""


@dataclass(frozen=True)
class Charge:
    period_start: datetime
    period_end: datetime


RenewalAction = NotDue | EndAtPeriodEnd | Charge


def renewal_action(
    *,
    state: str,
    cancel_at_period_end: bool,
    current_period_end: datetime,
    next_attempt_at: datetime | None,
    interval: Interval,
    anchor_day: int,
    now: datetime,
) -> RenewalAction:
    """What a renewal run does with one subscription now."""
    if state not in ("active", "past_due"):
        return NotDue(f"the subscription is {state}")
    if now < current_period_end:
        return NotDue("its period has not ended")
    if cancel_at_period_end:
        return EndAtPeriodEnd()
    if state == "past_due" and next_attempt_at is not None and now < next_attempt_at:
        return NotDue("its next attempt is later")
    return Charge(current_period_end, next_period_end(current_period_end, interval, anchor_day))


@dataclass(frozen=True)
class RetryAt:
    """Declined: past due, try again at `at`; `step` is the dunning step (declines so far)."""

    at: datetime
    step: int


@dataclass(frozen=True)
class Lapse:
    """Declined after the last retry of the schedule: the subscription lapses."""

    step: int


def after_decline(
    first_failed_at: datetime, failures: int, schedule: Sequence[timedelta], now: datetime
) -> RetryAt | Lapse:
    """`failures` counts the period's declined attempts, this one included. Retries follow the
    schedule's offsets from the first failure (1d,3d,5d,7d: four retries in a week); an extra
    attempt (a card updated, an operator's retry) uses up the next offset. Never in the past."""
    if failures > len(schedule):
        return Lapse(failures)
    return RetryAt(max(first_failed_at + schedule[failures - 1], now), failures)


def reminder_due(
    *,
    state: str,
    cancel_at_period_end: bool,
    current_period_end: datetime,
    days_before: int,
    now: datetime,
) -> bool:
    """Whether the period ending at `current_period_end` is due its reminder: an active
    subscription that will renew, within `days_before` days of the end (not after it)."""
    if state != "active" or cancel_at_period_end:
        return False
    return current_period_end - timedelta(days=days_before) <= now < current_period_end
