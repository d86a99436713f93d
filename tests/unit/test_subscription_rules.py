"""Premium subscription rules: period arithmetic, the renewal decision, dunning, reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.rules import subscriptions as rules


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("end", "anchor", "expected"),
    [
        ("2026-01-31T10:00:00", 31, "2026-02-28T10:00:00"),
        ("2026-02-28T10:00:00", 31, "2026-03-31T10:00:00"),  # back to the anchor, not stuck on 28
        ("2028-01-31T00:00:00", 31, "2028-02-29T00:00:00"),  # leap year
        ("2026-04-30T00:00:00", 30, "2026-05-30T00:00:00"),
        ("2026-12-15T08:30:00", 15, "2027-01-15T08:30:00"),  # across the year
        ("2026-01-30T00:00:00", 30, "2026-02-28T00:00:00"),
    ],
)
def test_a_monthly_period_ends_on_its_anchor_day_or_the_months_last(end, anchor, expected):
    assert rules.next_period_end(at(end), "month", anchor) == at(expected)


def test_month_ends_walk_jan31_feb28_mar31_apr30_may31():
    end, seen = at("2026-01-31T00:00:00"), []
    for _ in range(4):
        end = rules.next_period_end(end, "month", 31)
        seen.append(end.date().isoformat())
    assert seen == ["2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"]


def test_a_yearly_period_from_feb29_ends_feb28_then_feb29_in_the_next_leap_year():
    end = rules.next_period_end(at("2028-02-29T00:00:00"), "year", 29)
    assert end == at("2029-02-28T00:00:00")
    for _ in range(3):
        end = rules.next_period_end(end, "year", 29)
    assert end == at("2032-02-29T00:00:00")


def test_periods_are_counted_in_utc_whatever_zone_the_database_answers_in():
    # A database session whose TimeZone is not UTC hands back the same instant with another offset:
    # Jan 31 02:00 UTC is Jan 30 21:00 in New York (and a DST change falls in March).
    new_york = ZoneInfo("America/New_York")
    assert rules.next_period_end(at("2027-01-31T02:00:00").astimezone(new_york), "month", 31) == at(
        "2027-02-28T02:00:00"
    )
    assert rules.next_period_end(at("2027-02-28T09:00:00").astimezone(new_york), "month", 28) == at(
        "2027-03-28T09:00:00"
    )


def action(now: str, **overrides):
    values = {
        "state": "active",
        "cancel_at_period_end": False,
        "current_period_end": at("2026-03-01T00:00:00"),
        "next_attempt_at": None,
        "interval": "month",
        "anchor_day": 1,
        "now": at(now),
    }
    return rules.renewal_action(**(values | overrides))


def test_an_active_subscription_is_charged_for_its_next_period_once_the_period_ended():
    assert isinstance(action("2026-02-28T23:59:59"), rules.NotDue)
    assert action("2026-03-01T00:00:00") == rules.Charge(at("2026-03-01T00:00:00"), at("2026-04-01T00:00:00"))


def test_a_cancelled_at_period_end_subscription_ends_instead_of_charging():
    assert action("2026-03-02T00:00:00", cancel_at_period_end=True) == rules.EndAtPeriodEnd()
    assert isinstance(action("2026-02-02T00:00:00", cancel_at_period_end=True), rules.NotDue)


@pytest.mark.parametrize("state", ["lapsed", "cancelled"])
def test_ended_subscriptions_are_never_charged(state):
    assert isinstance(action("2027-01-01T00:00:00", state=state), rules.NotDue)


def test_a_past_due_subscription_waits_for_its_next_attempt():
    later = at("2026-03-04T00:00:00")
    assert isinstance(action("2026-03-03T23:00:00", state="past_due", next_attempt_at=later), rules.NotDue)
    due = action("2026-03-04T00:00:00", state="past_due", next_attempt_at=later)
    assert due == rules.Charge(at("2026-03-01T00:00:00"), at("2026-04-01T00:00:00"))  # the same period


SCHEDULE = [timedelta(days=d) for d in (1, 3, 5, 7)]


def test_dunning_retries_at_the_offsets_from_the_first_failure_then_lapses():
    first = at("2026-03-01T00:00:00")
    steps = [rules.after_decline(first, n, SCHEDULE, first) for n in range(1, 6)]
    assert steps[:4] == [rules.RetryAt(first + SCHEDULE[i], i + 1) for i in range(4)]
    assert steps[4] == rules.Lapse(5)


def test_a_retry_never_lands_in_the_past_after_an_extra_attempt():
    first = at("2026-03-01T00:00:00")
    now = at("2026-03-06T12:00:00")  # a card update tried on day 5.5: its offset (3d) is past
    assert rules.after_decline(first, 2, SCHEDULE, now) == rules.RetryAt(now, 2)


def test_an_empty_schedule_lapses_at_the_first_decline():
    first = at("2026-03-01T00:00:00")
    assert rules.after_decline(first, 1, [], first) == rules.Lapse(1)


def reminder(now: str, **overrides) -> bool:
    values = {
        "state": "active",
        "cancel_at_period_end": False,
        "current_period_end": at("2026-03-10T00:00:00"),
        "days_before": 7,
        "now": at(now),
    }
    return rules.reminder_due(**(values | overrides))


def test_a_reminder_is_due_from_n_days_before_the_period_ends_until_it_ends():
    assert not reminder("2026-03-02T23:59:59")
    assert reminder("2026-03-03T00:00:00")
    assert reminder("2026-03-09T23:59:59")
    assert not reminder("2026-03-10T00:00:00")


@pytest.mark.parametrize(
    "overrides", [{"cancel_at_period_end": True}, {"state": "past_due"}, {"state": "lapsed"}]
)
def test_no_reminder_for_a_subscription_that_will_not_renew(overrides):
    assert not reminder("2026-03-05T00:00:00", **overrides)


def test_keys_name_the_subscription_period_and_attempt_in_utc():
    start = datetime.fromisoformat("2026-03-01T01:00:00+01:00")
    assert rules.idempotency_key("sub_1", start, 2) == "renewal/sub_1/2026-03-01T00:00:00Z/2"
    assert rules.reminder_key("sub_1", start) == "reminder/sub_1/2026-03-01T00:00:00Z"
