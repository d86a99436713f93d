"""The schedule table: each recurring job's trigger, grace and misfire policy, from its default
and the environment (`SCHEDULE_<JOB>`, `_GRACE`, `_MISFIRE`). Pure values, no IO."""

from __future__ import annotations

from core.catalog import JOBS
from core.rules.schedules import ScheduledJob, parse_duration, parse_trigger
from core.settings import Settings
from core.settings_schedules import SCHEDULED_JOBS, parse_misfire


def default_triggers(settings: Settings) -> dict[str, str]:
    """The design's defaults; the job families still to come add their rows here."""
    return {
        "stock-cleanup": f"{settings.stock_cleanup_interval_minutes}m",
        "reconcile": "1m",
        "abandoned-carts": "15m",
        "low-stock-alerts": "15m",
        "premium-renewals": "1h",
        "renewal-reminders": "0 9 * * *",  # daily at 09:00 in SCHEDULE_TIMEZONE: a humane hour
        "retention": "0 3 * * *",  # daily at 03:00 in SCHEDULE_TIMEZONE
        "dead-letter-retention": "0 3 * * *",
    }


def schedule_table(settings: Settings) -> list[ScheduledJob]:
    """Every recurring job the scheduler fires, in a stable order. Settings validated every
    value at start, so parsing here cannot fail."""
    defaults = default_triggers(settings)
    table = []
    for job in SCHEDULED_JOBS:
        if job not in JOBS or (job == "dead-letter-retention" and "retention" in JOBS):
            continue  # not built yet; or an alias of a job scheduled under its own name
        # `retention` took over from `dead-letter-retention`: that name's overrides still apply.
        names = (job, "dead-letter-retention") if job == "retention" else (job,)

        def override(suffix: str = "", names: tuple[str, ...] = names) -> str | None:
            return next((v for n in names if (v := settings.schedule_override(n, suffix))), None)

        spec = override() or defaults[job]
        grace = override("_GRACE")
        policy, maximum = parse_misfire(override("_MISFIRE") or "fire_once")
        table.append(
            ScheduledJob(
                job=job,
                trigger=parse_trigger(spec, settings.schedule_timezone),
                grace=parse_duration(grace) if grace else None,
                misfire=policy,  # type: ignore[arg-type]  # parse_misfire checked it
                catch_up_max=maximum,
            )
        )
    return table
