"""Schedule rules: triggers, the slots a tick fires, and when a job is overdue. Pure; the time is
passed in.

A slot is the fire time the trigger scheduled, never the wall clock of the tick that fires it,
so a late tick still claims its own slot and two schedulers agree on every slot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

Misfire = Literal["skip", "fire_once", "catch_up"]
MISFIRE_POLICIES: tuple[Misfire, ...] = ("skip", "fire_once", "catch_up")
_DURATION = re.compile(r"^\s*(?:every\s+)?(\d+)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
EPOCH = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))
# How many past slots a tick looks at: a week of a one-minute job is 10,080; past this many the
# oldest are neither fired nor recorded (they are long gone either way).
LOOKBACK = 2000


def parse_duration(text: str) -> timedelta:
    """`90s`, `5m`, `1h`, `1d` (optionally `every 5m`) -> timedelta; ValueError otherwise."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"{text!r} is not a duration like 90s, 5m, 1h or 1d")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone like UTC or Europe/Berlin") from None


@dataclass(frozen=True)
class Trigger:
    """An interval (`5m`, `every 1h`; aligned to the epoch) or a 5-field cron expression in a
    time zone. `spec` is what an operator wrote; `describe` is what /v1/admin/schedules shows."""

    spec: str
    tz: str = "UTC"

    @property
    def is_cron(self) -> bool:
        return len(self.spec.split()) == 5

    def _trigger(self) -> BaseTrigger:
        if self.is_cron:
            return CronTrigger.from_crontab(self.spec, timezone=timezone(self.tz))
        return IntervalTrigger(seconds=int(parse_duration(self.spec).total_seconds()), start_date=EPOCH)

    def describe(self) -> str:
        return (
            f"cron {self.spec} ({self.tz})" if self.is_cron else f"every {self.spec.removeprefix('every ')}"
        )

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after `moment`."""
        trigger = self._trigger()
        nxt = trigger.get_next_fire_time(None, moment + timedelta(microseconds=1))
        assert nxt is not None  # neither kind of trigger ends
        return nxt.astimezone(EPOCH.tzinfo)

    def fire_times(self, after: datetime, until: datetime) -> list[datetime]:
        """Fire times in (after, until], the newest LOOKBACK of them, oldest first."""
        times: list[datetime] = []
        # Start from `after`'s own local time: the repeat of a local time already fired (the
        # previous tick's slot) is not a new slot either.
        moment, wall = (
            after,
            (after.astimezone(timezone(self.tz)).replace(tzinfo=None) if self.is_cron else None),
        )
        while True:
            moment = self.next_after(moment)
            if moment > until:
                return times[-LOOKBACK:]
            # When clocks go back, a local time happens twice; cron fires it once (as Vixie cron).
            local = moment.astimezone(timezone(self.tz)).replace(tzinfo=None) if self.is_cron else None
            if local is not None and local == wall:
                continue
            wall = local
            times.append(moment)
            if len(times) > 2 * LOOKBACK:
                times = times[-LOOKBACK:]

    def latest_at_or_before(self, now: datetime, period_hint: timedelta) -> datetime | None:
        """The newest fire time <= now, looking back a few periods."""
        times = self.fire_times(now - 3 * period_hint, now)
        return times[-1] if times else None

    def period(self, around: datetime) -> timedelta:
        """The gap between the fire time after `around` and the one after it."""
        first = self.next_after(around)
        return self.next_after(first) - first


@dataclass(frozen=True)
class ScheduledJob:
    """One row of the schedule table: a recurring job's trigger, its grace before it is overdue
    (None: one period), and its misfire policy."""

    job: str
    trigger: Trigger
    grace: timedelta | None = None
    misfire: Misfire = "fire_once"
    catch_up_max: int = 1

    def grace_at(self, now: datetime) -> timedelta:
        return self.grace if self.grace is not None else self.trigger.period(now)


def parse_trigger(spec: str, tz: str = "UTC") -> Trigger:
    """Validate a trigger now (ValueError with what is wrong), so a bad one stops the process."""
    trigger = Trigger(spec.strip(), tz)
    if trigger.is_cron:
        try:
            CronTrigger.from_crontab(trigger.spec, timezone=timezone(tz))
        except ValueError as error:
            raise ValueError(f"{spec!r} is not a 5-field cron expression: {error}") from None
    elif len(spec.split()) > 2:
        raise ValueError(f"{spec!r} is neither a 5-field cron expression nor a duration like 5m")
    else:
        parse_duration(spec)
    return trigger


@dataclass(frozen=True)
class TickPlan:
    fire: list[datetime]  # slots to claim and send now, oldest first
    skipped: list[datetime]  # slots the misfire policy drops, recorded so none goes missing silently


def plan_tick(
    trigger: Trigger,
    *,
    last_slot: datetime | None,
    now: datetime,
    policy: Misfire = "fire_once",
    catch_up_max: int = 1,
    on_time: timedelta = timedelta(seconds=60),
) -> TickPlan:
    """Which slots a tick at `now` fires, given the newest slot any scheduler claimed.

    A slot at most `on_time` old is on time and always fires. Older ones were missed while no
    scheduler ran: `skip` drops them, `fire_once` fires only the newest of them (when nothing is
    on time), `catch_up` fires the newest `catch_up_max` of them in order. A job that never ran
    fires its newest slot once, whatever the policy (a deploy must not wait a day for 03:00).
    """
    if last_slot is None:
        newest = trigger.latest_at_or_before(now, trigger.period(now))
        return TickPlan([newest] if newest else [], [])
    due = trigger.fire_times(last_slot, now)
    missed = [slot for slot in due if now - slot > on_time]
    prompt = [slot for slot in due if now - slot <= on_time]
    if policy == "skip":
        keep: list[datetime] = []
    elif policy == "catch_up":
        keep = missed[-catch_up_max:] if catch_up_max > 0 else []
    else:
        keep = missed[-1:] if not prompt else []
    return TickPlan(keep + prompt, [slot for slot in missed if slot not in keep])


def is_overdue(
    last_success: datetime | None, *, since: datetime, now: datetime, period: timedelta, grace: timedelta
) -> bool:
    """No success within a period plus the grace. `since` is when the job was first scheduled
    (or resumed), so a new or just-resumed job gets its first period before it counts."""
    reference = last_success if last_success and last_success > since else since
    return now - reference > period + grace


def job_overdue(
    scheduled: ScheduledJob,
    *,
    paused: bool,
    active_since: datetime | None,
    last_success: datetime | None,
    now: datetime,
) -> bool:
    """A job is overdue when it is not paused and has had no success within a period of its
    trigger plus its grace, counted from its last success or when it was first seen or resumed."""
    if paused or active_since is None:
        return False
    period = scheduled.trigger.period(now)
    return is_overdue(last_success, since=active_since, now=now, period=period, grace=scheduled.grace_at(now))
