"""Renewal reminders on real PostgreSQL, Redis, the session worker and the local Resend server: one
email a period, RENEWAL_REMINDER_DAYS (7) before it ends, to subscriptions that will renew.

The clock is years ahead of every other test's subscriptions, so a run here reminds only these."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from db.engine import transaction
from db.queries import outbox
from db.unit_of_work import UnitsOfWork
from services.renewal_reminders import TEMPLATE, RenewalReminders
from services.subscriptions import Subscriptions
from tests.support import renewal_rows as rows
from tests.support.clock import FakeClock
from tests.support.waiting import wait_for
from worker.messages import BrokerSender, send_email_message

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


class Held:
    """A sender that keeps messages: the reminders are queued, and sent when the test says."""

    def __init__(self) -> None:
        self.messages: list[object] = []

    def __call__(self, message: object) -> str:
        self.messages.append(message)
        return "held"


def test_a_reminder_is_checked_again_when_it_goes_but_a_receipt_always_goes(
    engine, settings, broker, worker, resend_server
):
    # Its own year, so no other test's run queues (or holds) these reminders, nor this run theirs.
    end = datetime(2043, 5, 31, 9, 0, tzinfo=UTC)
    clock = FakeClock(end - timedelta(days=3))
    cancelled, moved, untouched = (rows.insert_subscription(engine, end) for _ in range(3))
    RenewalReminders(UnitsOfWork(engine, Held()), settings, clock).send_due()
    queued = {sub_id: rows.emails(engine, sub_id) for sub_id in (cancelled, moved, untouched)}
    assert all(len(r) == 1 and r[0].state == "pending" for r in queued.values()), queued

    units = UnitsOfWork(engine, BrokerSender(broker))
    Subscriptions(units, settings, clock).cancel(cancelled)  # ends at the period's end: no renewal
    rows.update_subscription(engine, moved, current_period_end=end + timedelta(days=30))
    with transaction(engine) as s:  # a receipt of the cancelled subscription (paid before it ended)
        receipt = outbox.add_email(
            s,
            key=f"renewal-receipt/{cancelled}/2043-04-30T09:00:00Z",
            template="renewal_receipt",
            to="ada@example.com",
            context={"subscription_id": cancelled, "plan": "Premium", "amount": "12.5", "currency": "EUR"}
            | {"period_start": "30 April 2043", "period_end": "31 May 2043", "reference": "fake_pi_1"},
        )
    assert receipt is not None
    for sub_id in (cancelled, moved, untouched):
        send_email_message(broker, queued[sub_id][0].id)
    send_email_message(broker, receipt)

    def settled(sub_id: str) -> dict[str, Any]:
        """The subscription's emails by template, once none is pending any more."""
        emails = rows.emails(engine, sub_id)
        return {e.template: e for e in emails} if all(e.state != "pending" for e in emails) else {}

    for sub_id in (cancelled, moved):
        reminder = wait_for(partial(settled, sub_id), what=f"{sub_id}'s reminder closed")[TEMPLATE]
        assert reminder.state == "failed" and reminder.last_error.startswith("not sent: "), sub_id
    assert wait_for(partial(settled, untouched), what="the reminder sent")[TEMPLATE].state == "sent"
    assert {t: e.state for t, e in settled(cancelled).items()} == {
        TEMPLATE: "failed",
        "renewal_receipt": "sent",
    }
    subjects = {
        e.body["subject"] for e in resend_server.emails if f"/{cancelled}/" in (e.idempotency_key or "")
    }
    assert subjects == {"Your Premium subscription is renewed"}
