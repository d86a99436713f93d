"""Renewals through the stripe gateway against localstripe (a fake Stripe API in a process of its
own), on real PostgreSQL, Redis and the session worker for the emails: charged once and advanced,
two runs at once charge once, a declining card goes through the whole schedule (2s,4s) to lapsed,
a card updated while past due renews, an outage is no dunning step. Payments are counted at the
fake server, by the subscription named in their metadata."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from pydantic import SecretStr

from core.billing.factory import renewal_gateway
from core.billing.gateway import GatewayUnavailable
from core.clock import utcnow
from db.unit_of_work import UnitsOfWork
from services.renewals import Renewals
from tests.support import renewal_rows as rows
from tests.support.stripe_server import DECLINE_CARD, OK_CARD
from tests.support.waiting import wait_for
from worker.messages import BrokerSender


@pytest.fixture
def stripe_settings(settings, localstripe):
    return settings.model_copy(
        update={
            "stripe_api_key": SecretStr(localstripe.api_key),
            "stripe_api_base": localstripe.url,
            "renewal_retry_schedule": "2s,4s",
        }
    )


def service(engine, settings, send):
    return Renewals(UnitsOfWork(engine, send), settings, utcnow, lambda name: renewal_gateway(name, settings))


@pytest.fixture
def renewals(engine, stripe_settings, broker, worker):
    return service(engine, stripe_settings, BrokerSender(broker))


def due_subscription(engine, localstripe, card=OK_CARD):
    customer, method = localstripe.customer_with_card(card)
    start = utcnow() - timedelta(seconds=1)
    return rows.insert_subscription(
        engine, start, gateway="stripe", customer_ref=customer, payment_method_ref=method
    )


def intents(localstripe, sub_id, status=None):
    mine = [i for i in localstripe.payment_intents() if i["metadata"].get("subscription_id") == sub_id]
    return [i for i in mine if status is None or i["status"] == status]


def sent_keys(engine, sub_id, count):
    def done():
        queued = rows.emails(engine, sub_id)
        return len(queued) == count and all(e.state == "sent" for e in queued) and queued

    return [e.idempotency_key for e in wait_for(done, what=f"{count} email(s) of {sub_id} sent")]


def at_once(count, action):
    """Run `action` in `count` threads released together: their results."""
    barrier, results, errors = threading.Barrier(count), [], []

    def run():
        barrier.wait()
        try:
            results.append(action())
        except Exception as error:  # reported below, never swallowed
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(results) == count, errors
    return results


def test_a_due_subscription_is_charged_once_at_stripe_and_advances(renewals, engine, localstripe):
    sub_id = due_subscription(engine, localstripe)
    before = rows.subscription(engine, sub_id).current_period_end
    assert renewals.renew_subscription(sub_id) == "succeeded"
    assert renewals.renew_subscription(sub_id) == "not_due"

    (intent,) = intents(localstripe, sub_id)
    (attempt,) = rows.attempts(engine, sub_id)
    assert intent["status"] == "succeeded" and intent["id"] == attempt.gateway_reference
    customer = rows.subscription(engine, sub_id).customer_ref
    assert (intent["amount"], intent["currency"].upper(), intent["customer"]) == (1250, "EUR", customer)
    assert intent["metadata"]["attempt"] == "1"
    sub = rows.subscription(engine, sub_id)
    assert sub.state == "active" and sub.current_period_end > before + timedelta(days=27)
    assert sent_keys(engine, sub_id, 1)[0].startswith(f"renewal-receipt/{sub_id}/")


def test_two_renewals_of_one_subscription_at_once_charge_once(renewals, engine, localstripe):
    sub_id = due_subscription(engine, localstripe)
    outcomes = at_once(2, lambda: renewals.renew_subscription(sub_id))
    assert "succeeded" in outcomes and set(outcomes) <= {"succeeded", "busy", "not_due"}
    assert len(intents(localstripe, sub_id)) == 1 and len(intents(localstripe, sub_id, "succeeded")) == 1
    assert [a.state for a in rows.attempts(engine, sub_id)] == ["succeeded"]


def test_two_due_runs_at_once_charge_once(engine, stripe_settings, localstripe):
    sub_id = due_subscription(engine, localstripe)
    messages = []
    collecting = service(engine, stripe_settings, lambda message: messages.append(message) or "id")
    at_once(2, collecting.renew_due)
    mine = [m for m in messages if m.args == (sub_id,)]
    assert len(mine) == 2  # each run sent it: the renewal itself must hold
    outcomes = at_once(len(mine), lambda: collecting.renew_subscription(sub_id))
    assert outcomes.count("succeeded") == 1
    assert len(intents(localstripe, sub_id, "succeeded")) == 1 and len(rows.charges(engine, sub_id)) == 1


def test_a_declining_card_goes_through_the_schedule_to_lapsed_with_one_email_a_step(
    renewals, engine, localstripe
):
    sub_id = due_subscription(engine, localstripe, DECLINE_CARD)
    outcomes: list[str] = []

    def run_until_lapsed():
        outcome = renewals.renew_subscription(sub_id)
        if outcome != "not_due":
            outcomes.append(outcome)
        return outcome == "lapsed"

    wait_for(run_until_lapsed, timeout=30, interval=0.2, what="the schedule to run out (2s,4s)")
    assert outcomes == ["declined", "declined", "lapsed"]
    sub = rows.subscription(engine, sub_id)
    assert (sub.state, sub.next_attempt_at, sub.dunning_step) == ("lapsed", None, 3)
    attempts = rows.attempts(engine, sub_id)
    assert [(a.number, a.state) for a in attempts] == [(1, "declined"), (2, "declined"), (3, "declined")]
    assert all(a.decline_code for a in attempts)
    assert intents(localstripe, sub_id, "succeeded") == [] and len(intents(localstripe, sub_id)) == 3
    keys = sent_keys(engine, sub_id, 3)
    assert [k.split("/")[0] for k in keys] == ["renewal-failed", "renewal-failed", "renewal-lapsed"]


def test_a_card_updated_while_past_due_renews_on_the_next_run(renewals, engine, localstripe):
    sub_id = due_subscription(engine, localstripe, DECLINE_CARD)
    assert renewals.renew_subscription(sub_id) == "declined"
    customer, method = localstripe.customer_with_card(OK_CARD)
    # What the storefront's PUT with a new card does on a past-due subscription: try it now.
    rows.update_subscription(
        engine, sub_id, customer_ref=customer, payment_method_ref=method, next_attempt_at=utcnow()
    )
    assert renewals.renew_subscription(sub_id) == "succeeded"
    assert [(a.number, a.state) for a in rows.attempts(engine, sub_id)] == [(1, "declined"), (2, "succeeded")]
    (paid,) = intents(localstripe, sub_id, "succeeded")
    assert paid["payment_method"] == method and rows.subscription(engine, sub_id).state == "active"


def test_an_outage_is_no_dunning_step_and_recovery_charges_once(renewals, engine, localstripe):
    sub_id = due_subscription(engine, localstripe)
    localstripe.outage(True)
    try:
        for _ in range(2):
            with pytest.raises(GatewayUnavailable):
                renewals.renew_subscription(sub_id)
    finally:
        localstripe.outage(False)
    (attempt,) = rows.attempts(engine, sub_id)
    sub = rows.subscription(engine, sub_id)
    assert attempt.state == "started" and attempt.number == 1
    assert (sub.state, sub.dunning_step, sub.next_attempt_at) == ("active", 0, None)
    assert rows.emails(engine, sub_id) == []
    assert renewals.renew_subscription(sub_id) == "succeeded"
    assert [a.state for a in rows.attempts(engine, sub_id)] == ["succeeded"]
    assert len(intents(localstripe, sub_id, "succeeded")) == 1 and len(intents(localstripe, sub_id)) == 1
