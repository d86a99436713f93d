"""Renewal reminders on real PostgreSQL, Redis, the session worker and the local Resend server: one
email a period, RENEWAL_REMINDER_DAYS (7) before it ends, to subscriptions that will renew.

The clock is years ahead of every other test's subscriptions, so a run here reminds only these."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from db.unit_of_work import UnitsOfWork
from services.renewal_reminders import RenewalReminders
from tests.support import renewal_rows as rows
from tests.support.clock import FakeClock
from tests.support.waiting import wait_for
from worker.messages import BrokerSender

END = datetime(2041, 3, 31, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(END - timedelta(days=7))  # the first moment of the window


@pytest.fixture
def reminders(engine, settings, broker, worker, clock):
    return RenewalReminders(UnitsOfWork(engine, BrokerSender(broker)), settings, clock, batch_size=2)


def sent_reminders(engine, resend_server, subscription_id, count):
    def done():
        queued = rows.emails(engine, subscription_id)
        return len(queued) == count and all(e.state == "sent" for e in queued) and queued

    queued = wait_for(done, what=f"{count} reminder(s) of {subscription_id} sent")
    by_key = {e.idempotency_key: e for e in resend_server.emails}
    return [by_key[row.idempotency_key] for row in queued]


def test_one_reminder_a_period_with_the_amount_and_the_date(reminders, engine, resend_server, clock):
    sub_id = rows.insert_subscription(engine, END, plan="Premium Plus", amount=999, currency="USD")
    assert reminders.send_due() >= 1
    assert reminders.send_due() == 0  # the second run of the day queues nothing
    (email,) = sent_reminders(engine, resend_server, sub_id, 1)
    assert email.idempotency_key == f"reminder/{sub_id}/2041-03-31T09:00:00Z"
    assert email.body["subject"] == "Your Premium Plus subscription renews on 31 March 2041"
    assert "9.99 USD" in email.body["text"] and "31 March 2041" in email.body["text"]

    clock.advance(3 * 86400)  # later in the same window: still the same period
    reminders.send_due()
    # The period renewed: the next one's window brings the next reminder.
    rows.update_subscription(engine, sub_id, current_period_end=datetime(2041, 4, 30, 9, 0, tzinfo=UTC))
    reminders.send_due()
    assert len(rows.emails(engine, sub_id)) == 1
    clock.current = datetime(2041, 4, 23, 9, 0, tzinfo=UTC)
    reminders.send_due()
    assert [e.idempotency_key for e in sent_reminders(engine, resend_server, sub_id, 2)] == [
        f"reminder/{sub_id}/2041-03-31T09:00:00Z",
        f"reminder/{sub_id}/2041-04-30T09:00:00Z",
    ]


def test_no_reminder_outside_the_window_or_for_a_subscription_that_will_not_renew(reminders, engine, clock):
    early = rows.insert_subscription(engine, END + timedelta(seconds=1))  # 7 days and a second away
    ended = rows.insert_subscription(engine, clock())  # the period ends now: too late
    cancelling = rows.insert_subscription(engine, END, cancel_at_period_end=True)
    past_due = rows.insert_subscription(engine, END, state="past_due")
    lapsed = rows.insert_subscription(engine, END, state="lapsed")
    control = rows.insert_subscription(engine, END)
    reminders.send_due()
    for quiet in (early, ended, cancelling, past_due, lapsed):
        assert rows.emails(engine, quiet) == [], quiet
    assert rows.email_keys(engine, control) == [f"reminder/{control}/2041-03-31T09:00:00Z"]


def test_two_runs_at_once_queue_each_reminder_once(reminders, engine):
    ids = [rows.insert_subscription(engine, END - timedelta(hours=n)) for n in range(5)]
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def run() -> None:
        barrier.wait()
        counts.append(reminders.send_due())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(counts) == 2
    for sub_id in ids:
        assert len(rows.emails(engine, sub_id)) == 1, sub_id
