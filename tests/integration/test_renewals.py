"""Renewals on real PostgreSQL, Redis, the session worker (which delivers the emails to the local
Resend server) and a gateway the test controls, keyed like Stripe: a due subscription is charged
once and advances one period, outages are retried without a dunning step, declines follow the
schedule to `lapsed` with one email a step, a card updated while past due renews at once, and two
runs at once never call the gateway together."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest

from core.billing.fake import FakeGateway
from core.billing.gateway import ChargeRequest, Declined, GatewayUnavailable, Succeeded
from db.unit_of_work import UnitsOfWork
from services.renewals import Renewals
from tests.support import renewal_rows as rows
from tests.support.clock import FakeClock
from tests.support.waiting import wait_for
from worker.messages import BrokerSender

JAN_31 = datetime(2027, 1, 31, 9, 0, tzinfo=UTC)
FEB_28 = datetime(2027, 2, 28, 9, 0, tzinfo=UTC)
ids = itertools.count(1)


class Gateway:
    """A payment provider the test controls, keyed like Stripe: `start` makes one unconfirmed
    payment per idempotency key (a repeat answers the same one); `settle` confirms it once
    (`pm_fake_ok` pays, `pm_fake_decline` is declined) and afterwards only reads it.
    `pm_fake_outage` or `down` is an outage; `hold` pauses `start` until it is set."""

    name = "fake"

    def __init__(self) -> None:
        self.payments: dict[str, dict[str, object]] = {}  # by idempotency key
        self.calls: list[tuple[str, str]] = []
        self.down = False
        self.hold: threading.Event | None = None
        self.on_settle = lambda: None

    def start(self, request: ChargeRequest) -> str | Declined:
        self.calls.append(("start", request.idempotency_key))
        if self.hold is not None:
            assert self.hold.wait(20)
        if self.down or request.payment_method_ref == "pm_fake_outage":
            raise GatewayUnavailable("the gateway is down")
        payment = self.payments.setdefault(
            request.idempotency_key, {"id": f"pay_{next(ids)}", "state": "created", "request": request}
        )
        return str(payment["id"])

    def settle(self, reference: str, request: ChargeRequest) -> Succeeded | Declined:
        self.calls.append(("settle", request.idempotency_key))
        if self.down:
            raise GatewayUnavailable("the gateway is down")
        (payment,) = [p for p in self.payments.values() if p["id"] == reference]
        if payment["state"] == "created":
            ok = request.payment_method_ref == "pm_fake_ok"
            payment["state"] = "succeeded" if ok else "declined"
            self.on_settle()
        if payment["state"] == "succeeded":
            return Succeeded(reference)
        return Declined(reference, "card_declined", "Your card was declined.")

    def succeeded(self, subscription_id: str) -> int:
        return sum(
            1
            for key, p in self.payments.items()
            if p["state"] == "succeeded" and key.startswith(f"renewal/{subscription_id}/")
        )


@pytest.fixture
def gateway() -> Gateway:
    return Gateway()


@pytest.fixture
def at_jan_31() -> FakeClock:
    return FakeClock(JAN_31 + timedelta(minutes=5))


def renewals_on(engine, settings, broker, clock, gateway, **overrides):
    settings = settings.model_copy(update=overrides) if overrides else settings
    return Renewals(UnitsOfWork(engine, BrokerSender(broker)), settings, clock, lambda name: gateway)


@pytest.fixture
def renewals(engine, settings, broker, worker, at_jan_31, gateway):
    return renewals_on(engine, settings, broker, at_jan_31, gateway)


def sent(engine, resend_server, subscription_id, count):
    """Wait until `count` emails of the subscription went out; the emails, oldest first."""

    def done():
        queued = rows.emails(engine, subscription_id)
        return len(queued) == count and all(e.state == "sent" for e in queued) and queued

    queued = wait_for(done, what=f"{count} email(s) of {subscription_id} sent")
    by_key = {e.idempotency_key: e for e in resend_server.emails}
    return [by_key[row.idempotency_key] for row in queued]


def test_a_due_subscription_is_charged_once_and_advances_one_period(
    renewals, engine, resend_server, gateway, settings
):
    due = rows.insert_subscription(engine, JAN_31)
    later = rows.insert_subscription(engine, JAN_31 + timedelta(days=3))

    assert renewals.renew_subscription(due) == "succeeded"
    sub = rows.subscription(engine, due)
    assert (sub.state, sub.current_period_end) == ("active", FEB_28)  # Jan 31 -> Feb 28
    assert (sub.dunning_step, sub.next_attempt_at) == (0, None)
    (charge,) = rows.charges(engine, due)
    (attempt,) = rows.attempts(engine, due)
    assert (charge.period_start, charge.period_end) == (JAN_31, FEB_28)
    assert (charge.amount, charge.currency) == (1250, "EUR")
    assert (charge.state, attempt.state, attempt.number) == ("succeeded", "succeeded", 1)
    assert attempt.idempotency_key == f"renewal/{due}/2027-01-31T09:00:00Z/1"
    assert (
        charge.gateway_reference
        == attempt.gateway_reference
        == gateway.payments[attempt.idempotency_key]["id"]
    )
    (receipt,) = sent(engine, resend_server, due, 1)
    assert receipt.idempotency_key == f"renewal-receipt/{due}/2027-01-31T09:00:00Z"
    assert (
        "12.50 EUR" in receipt.body["text"] and "31 January 2027 to 28 February 2027" in receipt.body["text"]
    )

    calls = list(gateway.calls)
    assert renewals.renew_subscription(due) == "not_due"
    assert renewals.renew_subscription(due) == "not_due"
    assert gateway.calls == calls and gateway.succeeded(due) == 1
    assert len(rows.charges(engine, due)) == 1 and len(rows.emails(engine, due)) == 1

    assert renewals.renew_subscription(later) == "not_due"
    assert rows.charges(engine, later) == [] and rows.subscription(engine, later).current_period_end > JAN_31


def test_the_due_run_sends_one_renewal_a_due_subscription_and_skips_the_rest(
    engine, settings, at_jan_31, gateway
):
    due = rows.insert_subscription(engine, JAN_31)
    retry_due = rows.insert_subscription(
        engine, JAN_31 - timedelta(days=2), state="past_due", next_attempt_at=JAN_31
    )
    later = rows.insert_subscription(engine, JAN_31 + timedelta(hours=1))
    retry_later = rows.insert_subscription(
        engine, JAN_31 - timedelta(days=2), state="past_due", next_attempt_at=JAN_31 + timedelta(hours=1)
    )
    lapsed = rows.insert_subscription(engine, JAN_31 - timedelta(days=9), state="lapsed")
    messages = []
    units = UnitsOfWork(engine, lambda message: messages.append(message) or "id")
    Renewals(units, settings, at_jan_31, lambda name: gateway, batch_size=2).renew_due()
    named = [m.args[0] for m in messages if m.actor_name == "subscriptions.renew"]
    assert due in named and retry_due in named
    assert not {later, retry_later, lapsed} & set(named)
    assert len(named) == len(set(named)) and {m.queue for m in messages} == {"subscriptions"}


def test_an_outage_is_retried_on_the_same_attempt_without_a_dunning_step_or_an_email(
    renewals, engine, gateway
):
    sub_id = rows.insert_subscription(engine, JAN_31)
    gateway.down = True
    for _ in range(2):
        with pytest.raises(GatewayUnavailable):
            renewals.renew_subscription(sub_id)
    (attempt,) = rows.attempts(engine, sub_id)
    assert (attempt.state, attempt.gateway_reference, attempt.number) == ("started", None, 1)
    sub = rows.subscription(engine, sub_id)
    assert (sub.state, sub.dunning_step, sub.next_attempt_at, sub.current_period_end) == (
        "active",
        0,
        None,
        JAN_31,
    )
    assert rows.emails(engine, sub_id) == [] and rows.charges(engine, sub_id)[0].failures == 0

    gateway.down = False
    assert renewals.renew_subscription(sub_id) == "succeeded"
    (attempt,) = rows.attempts(engine, sub_id)
    assert attempt.state == "succeeded" and gateway.succeeded(sub_id) == 1
    assert {key for _, key in gateway.calls} == {attempt.idempotency_key}  # one key throughout


def test_the_fake_gateways_outage_card_keeps_its_attempt_open_after_a_card_update(
    engine, settings, broker, at_jan_31
):
    """`pm_fake_outage` through the real fake gateway: the job raises (retried), the attempt stays
    `started` with its reference, no dunning step, no email. The open attempt is settled before
    anything new, with ITS payment method and key (the gateway may hold that payment), so a card
    updated meanwhile waits for it: with the fake's permanent outage, for an operator."""
    renewals = renewals_on(engine, settings, broker, at_jan_31, FakeGateway())
    sub_id = rows.insert_subscription(engine, JAN_31, payment_method_ref="pm_fake_outage")
    with pytest.raises(GatewayUnavailable):
        renewals.renew_subscription(sub_id)
    (attempt,) = rows.attempts(engine, sub_id)
    assert attempt.state == "started" and attempt.gateway_reference.startswith("fake_pi_")
    rows.update_subscription(engine, sub_id, payment_method_ref="pm_fake_ok")
    with pytest.raises(GatewayUnavailable):
        renewals.renew_subscription(sub_id)
    (again,) = rows.attempts(engine, sub_id)
    assert (again.id, again.state, again.payment_method_ref) == (attempt.id, "started", "pm_fake_outage")
    sub = rows.subscription(engine, sub_id)
    assert (sub.state, sub.dunning_step, sub.current_period_end) == ("active", 0, JAN_31)
    assert rows.emails(engine, sub_id) == [] and rows.charges(engine, sub_id)[0].failures == 0


def test_a_worker_dying_after_the_gateway_call_settles_the_same_payment_next_time(renewals, engine, gateway):
    sub_id = rows.insert_subscription(engine, JAN_31)

    def die():
        raise KeyboardInterrupt("the worker dies before recording the answer")

    gateway.on_settle = die
    with pytest.raises(KeyboardInterrupt):
        renewals.renew_subscription(sub_id)
    (attempt,) = rows.attempts(engine, sub_id)
    assert attempt.state == "started" and attempt.gateway_reference is not None  # stored before settling
    gateway.on_settle = lambda: None
    assert renewals.renew_subscription(sub_id) == "succeeded"
    assert gateway.succeeded(sub_id) == 1 and len(gateway.payments) >= 1
    assert [a.state for a in rows.attempts(engine, sub_id)] == ["succeeded"]
    assert rows.subscription(engine, sub_id).current_period_end == FEB_28


def test_two_runs_at_once_never_call_the_gateway_together(renewals, engine, gateway):
    sub_id = rows.insert_subscription(engine, JAN_31)
    gateway.hold = threading.Event()
    first: list[str] = []
    runner = threading.Thread(target=lambda: first.append(renewals.renew_subscription(sub_id)))
    runner.start()
    wait_for(lambda: gateway.calls, what="the first run to reach the gateway")
    assert renewals.renew_subscription(sub_id) == "busy"
    gateway.hold.set()
    runner.join(20)
    assert first == ["succeeded"] and renewals.renew_subscription(sub_id) == "not_due"
    key = f"renewal/{sub_id}/2027-01-31T09:00:00Z/1"
    assert gateway.calls == [("start", key), ("settle", key)]


def test_declines_follow_the_schedule_to_lapsed_with_one_email_a_step(
    engine, settings, broker, worker, at_jan_31, gateway, resend_server
):
    renewals = renewals_on(engine, settings, broker, at_jan_31, gateway, renewal_retry_schedule="1h,3h")
    sub_id = rows.insert_subscription(engine, JAN_31, payment_method_ref="pm_fake_decline")
    first_failure = at_jan_31()

    assert renewals.renew_subscription(sub_id) == "declined"
    sub = rows.subscription(engine, sub_id)
    assert (sub.state, sub.dunning_step, sub.next_attempt_at) == (
        "past_due",
        1,
        first_failure + timedelta(hours=1),
    )
    assert renewals.renew_subscription(sub_id) == "not_due"  # not before its next attempt
    (failed,) = sent(engine, resend_server, sub_id, 1)
    assert failed.idempotency_key == f"renewal-failed/{sub_id}/2027-01-31T09:00:00Z/1"
    assert f"https://shop.example.com/billing/{sub_id}" in failed.body["text"]
    assert "12.50 EUR" in failed.body["text"] and "your bank declined the payment" in failed.body["text"]
    assert "31 January 2027, 10:05 UTC" in failed.body["text"]

    at_jan_31.advance(3600)
    assert renewals.renew_subscription(sub_id) == "declined"
    sub = rows.subscription(engine, sub_id)
    assert (sub.state, sub.dunning_step, sub.next_attempt_at) == (
        "past_due",
        2,
        first_failure + timedelta(hours=3),
    )
    at_jan_31.advance(2 * 3600)
    assert renewals.renew_subscription(sub_id) == "lapsed"
    assert renewals.renew_subscription(sub_id) == "not_due"

    sub = rows.subscription(engine, sub_id)
    assert (sub.state, sub.next_attempt_at, sub.current_period_end) == ("lapsed", None, JAN_31)
    (charge,) = rows.charges(engine, sub_id)
    assert (charge.state, charge.failures, charge.first_failed_at) == ("failed", 3, first_failure)
    assert [(a.number, a.state, a.decline_code) for a in rows.attempts(engine, sub_id)] == [
        (n, "declined", "card_declined") for n in (1, 2, 3)
    ]
    keys = [e.idempotency_key for e in sent(engine, resend_server, sub_id, 3)]
    assert keys == [
        f"renewal-failed/{sub_id}/2027-01-31T09:00:00Z/1",
        f"renewal-failed/{sub_id}/2027-01-31T09:00:00Z/2",
        f"renewal-lapsed/{sub_id}/2027-01-31T09:00:00Z/3",
    ]
    assert gateway.succeeded(sub_id) == 0


def test_a_card_updated_while_past_due_renews_on_the_next_run(renewals, engine, gateway):
    sub_id = rows.insert_subscription(engine, JAN_31, payment_method_ref="pm_fake_decline")
    assert renewals.renew_subscription(sub_id) == "declined"
    # What the storefront's PUT with a new payment method does: try at once.
    rows.update_subscription(engine, sub_id, payment_method_ref="pm_fake_ok", next_attempt_at=None)
    assert renewals.renew_subscription(sub_id) == "succeeded"
    sub = rows.subscription(engine, sub_id)
    assert (sub.state, sub.dunning_step, sub.next_attempt_at, sub.current_period_end) == (
        "active",
        0,
        None,
        FEB_28,
    )
    assert [(a.number, a.state, a.payment_method_ref) for a in rows.attempts(engine, sub_id)] == [
        (1, "declined", "pm_fake_decline"),
        (2, "succeeded", "pm_fake_ok"),
    ]
    assert rows.charges(engine, sub_id)[0].state == "succeeded" and gateway.succeeded(sub_id) == 1


@pytest.mark.parametrize("schedule", ["1d,3d", ""])
def test_a_card_updated_while_the_old_one_is_being_charged_is_tried_at_once(
    engine, settings, broker, at_jan_31, gateway, schedule
):
    """The storefront's PUT with a new card lands while the old card's attempt is at the gateway:
    the old card's decline must not push the new card to the next dunning step (or lapse the
    subscription with the new card never tried); it is tried in the same run, no failure email."""
    renewals = renewals_on(engine, settings, broker, at_jan_31, gateway, renewal_retry_schedule=schedule)
    sub_id = rows.insert_subscription(engine, JAN_31, payment_method_ref="pm_fake_decline")

    def card_updated() -> None:  # what the PUT writes for a new card (services/subscriptions.py)
        gateway.on_settle = lambda: None
        rows.update_subscription(engine, sub_id, payment_method_ref="pm_fake_ok", next_attempt_at=at_jan_31())

    gateway.on_settle = card_updated
    assert renewals.renew_subscription(sub_id) == "succeeded"
    sub = rows.subscription(engine, sub_id)
    assert (sub.state, sub.dunning_step, sub.next_attempt_at, sub.current_period_end) == (
        "active",
        0,
        None,
        FEB_28,
    )
    assert [(a.number, a.state, a.payment_method_ref) for a in rows.attempts(engine, sub_id)] == [
        (1, "declined", "pm_fake_decline"),
        (2, "succeeded", "pm_fake_ok"),
    ]
    assert rows.email_keys(engine, sub_id) == [f"renewal-receipt/{sub_id}/2027-01-31T09:00:00Z"]
    assert gateway.succeeded(sub_id) == 1


@pytest.mark.parametrize("card", ["pm_fake_ok", "pm_fake_decline"])
def test_cancelled_while_the_charge_is_in_flight(renewals, engine, gateway, card):
    sub_id = rows.insert_subscription(engine, JAN_31, payment_method_ref=card)
    gateway.on_settle = lambda: rows.update_subscription(engine, sub_id, cancel_at_period_end=True)
    outcome = renewals.renew_subscription(sub_id)
    sub = rows.subscription(engine, sub_id)
    if card == "pm_fake_ok":  # the money moved: the period is paid, and ends the subscription
        assert outcome == "succeeded" and (sub.state, sub.current_period_end) == ("active", FEB_28)
        assert sub.cancel_at_period_end and rows.email_keys(engine, sub_id) == [
            f"renewal-receipt/{sub_id}/2027-01-31T09:00:00Z"
        ]
    else:  # ended quietly: no dunning, no email
        assert outcome == "cancelled" and (sub.state, sub.dunning_step, sub.next_attempt_at) == (
            "cancelled",
            0,
            None,
        )
        assert rows.charges(engine, sub_id)[0].state == "failed" and rows.emails(engine, sub_id) == []


def test_cancelled_at_period_end_ends_without_a_charge(renewals, engine, gateway):
    sub_id = rows.insert_subscription(engine, JAN_31, cancel_at_period_end=True)
    assert renewals.renew_subscription(sub_id) == "cancelled"
    sub = rows.subscription(engine, sub_id)
    assert sub.state == "cancelled" and sub.cancelled_at is not None
    assert rows.charges(engine, sub_id) == [] and gateway.calls == []
    assert renewals.renew_subscription(sub_id) == "not_due"


def test_a_lapsed_subscription_an_operator_retries_is_charged_on_a_new_attempt(
    engine, settings, broker, at_jan_31, gateway
):
    renewals = renewals_on(engine, settings, broker, at_jan_31, gateway, renewal_retry_schedule="1h")
    sub_id = rows.insert_subscription(engine, JAN_31, payment_method_ref="pm_fake_decline")
    assert renewals.renew_subscription(sub_id) == "declined"
    at_jan_31.advance(3600)
    assert renewals.renew_subscription(sub_id) == "lapsed"
    # What `backroom subscriptions retry` does to a lapsed one, with a working card meanwhile.
    revived = {"state": "past_due", "lapsed_at": None, "next_attempt_at": at_jan_31()}
    rows.update_subscription(engine, sub_id, payment_method_ref="pm_fake_ok", **revived)
    assert renewals.renew_subscription(sub_id) == "succeeded"
    (charge,) = rows.charges(engine, sub_id)
    assert (charge.state, charge.failures) == ("succeeded", 2)
    assert [a.state for a in rows.attempts(engine, sub_id)] == ["declined", "declined", "succeeded"]
    assert rows.subscription(engine, sub_id).current_period_end == FEB_28


def test_a_revived_subscription_that_declines_again_lapses_again_and_says_so(
    engine, settings, broker, at_jan_31, gateway
):
    renewals = renewals_on(engine, settings, broker, at_jan_31, gateway, renewal_retry_schedule="")
    sub_id = rows.insert_subscription(engine, JAN_31, payment_method_ref="pm_fake_decline")
    assert renewals.renew_subscription(sub_id) == "lapsed"
    revived = {"state": "past_due", "lapsed_at": None, "next_attempt_at": at_jan_31()}
    rows.update_subscription(engine, sub_id, **revived)
    assert renewals.renew_subscription(sub_id) == "lapsed"
    assert rows.email_keys(engine, sub_id) == [
        f"renewal-lapsed/{sub_id}/2027-01-31T09:00:00Z/1",
        f"renewal-lapsed/{sub_id}/2027-01-31T09:00:00Z/2",  # the customer hears of the second too
    ]


def test_a_period_the_rows_say_is_paid_is_never_charged_again(renewals, engine, gateway):
    sub_id = rows.insert_subscription(engine, JAN_31)
    assert renewals.renew_subscription(sub_id) == "succeeded"
    rows.update_subscription(engine, sub_id, current_period_end=JAN_31)  # e.g. a hand edit
    calls = list(gateway.calls)
    assert renewals.renew_subscription(sub_id) == "paid_already"
    assert gateway.calls == calls and rows.subscription(engine, sub_id).current_period_end == FEB_28
    assert len(rows.attempts(engine, sub_id)) == 1 and len(rows.email_keys(engine, sub_id)) == 1
