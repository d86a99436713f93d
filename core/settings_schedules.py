"""Schedule settings: the time zone of cron triggers and, per recurring job, its trigger, grace and
misfire policy from the environment (`SCHEDULE_<JOB>`, `SCHEDULE_<JOB>_GRACE`,
`SCHEDULE_<JOB>_MISFIRE`, the job name upper-cased with `_`). A bad value stops the process at
start with one line naming the variable."""

from __future__ import annotations

from pydantic import model_validator
from pydantic_settings import BaseSettings

from core.rules.schedules import MISFIRE_POLICIES, parse_duration, parse_trigger, timezone

# Recurring jobs whose schedule the environment may override (core/catalog.JOBS names).
# A job is scheduled once its actor exists in core/catalog.JOBS (core/schedule_table.py).
SCHEDULED_JOBS = (
    "stock-cleanup",
    "reconcile",
    "abandoned-carts",
    "low-stock-alerts",
    "premium-renewals",
    "renewal-reminders",
    "retention",
    "dead-letter-retention",
)


def variable(job: str, suffix: str = "") -> str:
    """`stock-cleanup`, `_GRACE` -> `SCHEDULE_STOCK_CLEANUP_GRACE`."""
    return "SCHEDULE_" + job.upper().replace("-", "_") + suffix


def parse_misfire(text: str) -> tuple[str, int]:
    """`fire_once` | `skip` | `catch_up` | `catch_up:5` -> (policy, catch-up maximum)."""
    policy, _, maximum = text.strip().partition(":")
    if policy not in MISFIRE_POLICIES or (maximum and (policy != "catch_up" or not maximum.isdigit())):
        raise ValueError(f"{text!r} is not one of skip, fire_once, catch_up or catch_up:N")
    return policy, int(maximum) if maximum else (10 if policy == "catch_up" else 1)


class ScheduleSettings(BaseSettings):
    schedule_timezone: str = "UTC"
    schedule_stock_cleanup: str | None = None
    schedule_stock_cleanup_grace: str | None = None
    schedule_stock_cleanup_misfire: str = "fire_once"
    schedule_reconcile: str | None = None
    schedule_reconcile_grace: str | None = None
    schedule_reconcile_misfire: str = "fire_once"
    schedule_abandoned_carts: str | None = None
    schedule_abandoned_carts_grace: str | None = None
    schedule_abandoned_carts_misfire: str = "fire_once"
    schedule_low_stock_alerts: str | None = None
    schedule_low_stock_alerts_grace: str | None = None
    schedule_low_stock_alerts_misfire: str = "fire_once"
    schedule_premium_renewals: str | None = None
    schedule_premium_renewals_grace: str | None = None
    schedule_premium_renewals_misfire: str = "fire_once"
    schedule_renewal_reminders: str | None = None
    schedule_renewal_reminders_grace: str | None = None
    schedule_renewal_reminders_misfire: str = "fire_once"
    schedule_retention: str | None = None
    schedule_retention_grace: str | None = None
    schedule_retention_misfire: str = "fire_once"
    schedule_dead_letter_retention: str | None = None
    schedule_dead_letter_retention_grace: str | None = None
    schedule_dead_letter_retention_misfire: str = "fire_once"

    def schedule_override(self, job: str, suffix: str = "") -> str | None:
        value = getattr(self, variable(job, suffix).lower(), None)
        return str(value) if value is not None else None

    @model_validator(mode="after")
    def _valid_schedules(self) -> ScheduleSettings:
        try:
            timezone(self.schedule_timezone)
        except ValueError as error:
            raise ValueError(f"SCHEDULE_TIMEZONE: {error}") from None
        for job in SCHEDULED_JOBS:
            checks = (
                ("", lambda v: parse_trigger(v, self.schedule_timezone)),
                ("_GRACE", parse_duration),
                ("_MISFIRE", parse_misfire),
            )
            for suffix, check in checks:
                value = self.schedule_override(job, suffix)
                if value is None:
                    continue
                try:
                    check(value)
                except ValueError as error:
                    raise ValueError(f"{variable(job, suffix)}: {error}") from None
        return self
