"""Trigger, slot and misfire rules with the time passed in."""

from datetime import UTC, datetime, timedelta

import pytest

from core.rules.schedules import Trigger, is_overdue, parse_duration, parse_trigger, plan_tick


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_intervals_align_to_the_epoch_and_cron_to_its_fields():
    assert Trigger("5m").next_after(at("2026-11-22 04:47:13")) == at("2026-11-22 04:50:00")
    assert Trigger("*/5 * * * *").next_after(at("2026-11-22 04:50:00")) == at("2026-11-22 04:55:00")
    assert Trigger("0 3 * * *").next_after(at("2026-11-22 04:00:00")) == at("2026-11-23 03:00:00")
    assert Trigger("every 1h").period(at("2026-11-22 04:00:00")) == timedelta(hours=1)


def test_a_cron_in_a_zone_with_daylight_saving_fires_once_a_day_through_the_change():
    berlin = Trigger("30 2 * * *", "Europe/Berlin")
    # 2026-03-29: clocks jump from 02:00 to 03:00, so 02:30 local does not exist that day.
    fires = berlin.fire_times(at("2026-03-27 12:00:00"), at("2026-03-31 12:00:00"))
    assert [f.date().isoformat() for f in fires] == ["2026-03-28", "2026-03-29", "2026-03-30", "2026-03-31"]
    assert fires[0] == at("2026-03-28 01:30:00")  # 02:30 CET
    assert fires[2] == at("2026-03-30 00:30:00")  # 02:30 CEST
    # 2026-10-25: clocks go back, 02:30 happens twice locally; the job still fires once.
    autumn = berlin.fire_times(at("2026-10-24 12:00:00"), at("2026-10-26 12:00:00"))
    assert len(autumn) == 2


def test_a_late_tick_claims_its_own_slot_not_the_clocks():
    five = Trigger("5m")
    plan = plan_tick(five, last_slot=at("2026-11-22 04:45:00"), now=at("2026-11-22 04:50:40"))
    assert plan.fire == [at("2026-11-22 04:50:00")] and plan.skipped == []


def test_a_tick_late_by_more_than_a_period_fires_once_and_records_what_it_dropped():
    five = Trigger("5m")
    plan = plan_tick(five, last_slot=at("2026-11-22 04:30:00"), now=at("2026-11-22 04:52:00"))
    assert plan.fire == [at("2026-11-22 04:50:00")]
    assert plan.skipped == [at("2026-11-22 04:35:00"), at("2026-11-22 04:40:00"), at("2026-11-22 04:45:00")]


def test_catch_up_fires_missed_slots_in_order_up_to_its_maximum():
    hourly = Trigger("0 * * * *")
    plan = plan_tick(
        hourly,
        last_slot=at("2026-11-22 00:00:00"),
        now=at("2026-11-22 06:00:10"),
        policy="catch_up",
        catch_up_max=3,
    )
    assert plan.fire == [
        at("2026-11-22 03:00:00"),
        at("2026-11-22 04:00:00"),
        at("2026-11-22 05:00:00"),
        at("2026-11-22 06:00:00"),
    ]
    assert plan.skipped == [at("2026-11-22 01:00:00"), at("2026-11-22 02:00:00")]


def test_skip_fires_only_what_is_on_time():
    hourly = Trigger("0 * * * *")
    plan = plan_tick(
        hourly, last_slot=at("2026-11-22 00:00:00"), now=at("2026-11-22 03:30:00"), policy="skip"
    )
    assert plan.fire == [] and len(plan.skipped) == 3
    on_time = plan_tick(
        hourly, last_slot=at("2026-11-22 02:00:00"), now=at("2026-11-22 03:00:20"), policy="skip"
    )
    assert on_time.fire == [at("2026-11-22 03:00:00")]


def test_a_job_that_never_ran_fires_its_newest_slot_once():
    daily = Trigger("0 3 * * *")
    plan = plan_tick(daily, last_slot=None, now=at("2026-11-22 10:00:00"), policy="skip")
    assert plan.fire == [at("2026-11-22 03:00:00")]
    assert plan_tick(daily, last_slot=at("2026-11-22 03:00:00"), now=at("2026-11-22 10:00:00")).fire == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("61 * * * *", "not a 5-field cron expression"),
        ("* * *", "neither a 5-field cron expression nor a duration"),
        ("5 minutes", "not a duration"),
        ("0s", "not a duration"),
    ],
)
def test_bad_triggers_say_what_is_wrong(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_trigger(spec)


def test_a_bad_time_zone_is_refused():
    with pytest.raises(ValueError, match="IANA time zone"):
        parse_trigger("0 3 * * *", "Mars/Olympus")


def test_durations():
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("every 2h") == timedelta(hours=2)


def test_overdue_after_a_period_and_its_grace_without_success():
    start, period, grace = at("2026-11-22 00:00:00"), timedelta(minutes=5), timedelta(minutes=5)
    kwargs = {"since": start, "period": period, "grace": grace}
    assert not is_overdue(None, now=start + timedelta(minutes=9), **kwargs)
    assert is_overdue(None, now=start + timedelta(minutes=11), **kwargs)
    assert not is_overdue(start + timedelta(minutes=10), now=start + timedelta(minutes=19), **kwargs)
    # A job resumed at `since` is measured from then, not from its last success before the pause.
    assert not is_overdue(
        start,
        since=start + timedelta(hours=1),
        now=start + timedelta(hours=1, minutes=9),
        period=period,
        grace=grace,
    )


def test_when_clocks_go_back_the_next_tick_does_not_fire_the_repeated_local_time():
    """Found by review: the slot at 02:30 CEST was fired, then the next tick fired 02:30 CET."""
    berlin = Trigger("30 2 * * *", "Europe/Berlin")
    plan = plan_tick(berlin, last_slot=at("2026-10-25 00:30:00"), now=at("2026-10-25 01:30:20"))
    assert plan.fire == [] and plan.skipped == []
    assert plan_tick(berlin, last_slot=at("2026-10-25 00:30:00"), now=at("2026-10-26 01:30:10")).fire == [
        at("2026-10-26 01:30:00")
    ]
