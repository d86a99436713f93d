"""A renewal worker killed after Stripe charged and before our commit does not charge twice: a real
`dramatiq worker.entry` process on queue `subscriptions`, localstripe holding the confirm's answer
until the worker is dead (SIGKILL), then a new worker runs the renewal again.

Why it holds: the payment's reference is stored on the attempt in its own transaction before the
confirm, the killed worker's connection closes (Postgres frees its advisory lock), and the next run
takes up that same open attempt: it asks Stripe about that payment instead of starting another.
Had the reference not been stored first, the attempt would still be `started` with no reference
when the worker died (asserted below), and the next run could only start a payment again, relying
on Stripe's 24-hour idempotency cache alone (localstripe without it would show two payments)."""

from __future__ import annotations

import os
import signal
import uuid
from datetime import timedelta

from pydantic import SecretStr

from core.catalog import RENEWAL_ACTOR
from core.clock import utcnow
from tests.support import renewal_rows as rows
from tests.support.waiting import wait_for
from tests.support.worker_process import worker_process
from worker.broker import build_broker
from worker.messages import send


def intents(localstripe, sub_id):
    """The PaymentIntents at the fake server whose metadata names this subscription."""
    return [i for i in localstripe.payment_intents() if i["metadata"].get("subscription_id") == sub_id]


def held(localstripe, sub_id):
    """The id of this subscription's payment that Stripe confirmed and whose answer is held."""
    confirmed = {flag.name.removeprefix("confirmed-") for flag in localstripe.control_dir.glob("confirmed-*")}
    ids = [i["id"] for i in intents(localstripe, sub_id) if i["id"] in confirmed]
    return ids[0] if ids else None


def test_a_worker_killed_between_the_charge_and_the_commit_does_not_charge_twice(
    settings, engine, localstripe, tmp_path
):
    own = settings.model_copy(
        update={
            "redis_namespace": f"brtest-crash-{uuid.uuid4().hex[:8]}",  # no other worker takes it
            "stripe_api_key": SecretStr(localstripe.api_key),
            "stripe_api_base": localstripe.url,
        }
    )
    customer, method = localstripe.customer_with_card()
    period_end = utcnow() - timedelta(seconds=1)
    sub_id = rows.insert_subscription(
        engine, period_end, gateway="stripe", customer_ref=customer, payment_method_ref=method
    )
    broker = build_broker(own)
    localstripe.hold()
    try:
        with worker_process(own, ["subscriptions"], tmp_path / "worker-1.log") as first:
            send(broker, *RENEWAL_ACTOR, sub_id)
            confirmed = wait_for(lambda: held(localstripe, sub_id), timeout=60, what="the held confirm")
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(20)
        (attempt,) = rows.attempts(engine, sub_id)
        # Durable before the confirm: the attempt names the payment that was charged.
        assert (attempt.state, attempt.gateway_reference) == ("started", confirmed)
        assert rows.subscription(engine, sub_id).current_period_end == period_end
    finally:
        localstripe.release()
        for flag in localstripe.control_dir.glob("confirmed-*"):  # none left for another test
            if flag.name.removeprefix("confirmed-") in {i["id"] for i in intents(localstripe, sub_id)}:
                flag.unlink()

    with worker_process(own, ["subscriptions"], tmp_path / "worker-2.log"):
        send(broker, *RENEWAL_ACTOR, sub_id)
        wait_for(
            lambda: rows.subscription(engine, sub_id).current_period_end > period_end,
            timeout=60,
            what="the second worker to record the renewal",
        )
    sub = rows.subscription(engine, sub_id)
    assert sub.state == "active" and sub.current_period_end > period_end + timedelta(days=27)
    (attempt,) = rows.attempts(engine, sub_id)
    assert (attempt.number, attempt.state, attempt.gateway_reference) == (1, "succeeded", confirmed)
    assert [(i["id"], i["status"]) for i in intents(localstripe, sub_id)] == [(confirmed, "succeeded")]
    (charge,) = rows.charges(engine, sub_id)
    assert (charge.state, charge.gateway_reference) == ("succeeded", confirmed)
    period_start = attempt.idempotency_key.split("/")[2]
    assert rows.email_keys(engine, sub_id) == [f"renewal-receipt/{sub_id}/{period_start}"]
