"""The subscription jobs as the scheduler fires them, run by a `worker.entry` process of their own on
queues `subscriptions` and `email` (a Redis namespace nobody else reads, so the renewals it fans
out end with the test): `premium-renewals` charges a due subscription through the gateway it names
and the receipt is sent; `renewal-reminders` sends the reminder of one ending in three days."""

from __future__ import annotations

import uuid
from datetime import timedelta

from core.clock import utcnow
from core.rules.subscriptions import iso_utc
from tests.support import renewal_rows as rows
from tests.support.waiting import wait_for
from tests.support.worker_process import worker_process
from worker.broker import build_broker
from worker.messages import enqueue


def sent_keys(engine, sub_id):
    return [e.idempotency_key for e in rows.emails(engine, sub_id) if e.state == "sent"]


def test_the_renewal_jobs_through_a_subscriptions_worker(settings, engine, resend_server, tmp_path):
    own = settings.model_copy(update={"redis_namespace": f"brtest-renew-{uuid.uuid4().hex[:8]}"})
    period_end = utcnow() - timedelta(seconds=1)
    due = rows.insert_subscription(engine, period_end)  # the fake gateway, pm_fake_ok
    soon = rows.insert_subscription(engine, utcnow() + timedelta(days=3))
    broker = build_broker(own)
    with worker_process(own, ["subscriptions", "email"], tmp_path / "worker.log"):
        enqueue(broker, "premium-renewals")
        enqueue(broker, "renewal-reminders")
        receipt = wait_for(lambda: sent_keys(engine, due), timeout=60, what="the receipt sent")
        reminder = wait_for(lambda: sent_keys(engine, soon), timeout=60, what="the reminder sent")
    assert rows.subscription(engine, due).current_period_end > period_end + timedelta(days=27)
    (attempt,) = rows.attempts(engine, due)
    assert attempt.state == "succeeded" and attempt.gateway_reference.startswith("fake_pi_")
    assert receipt == [f"renewal-receipt/{due}/{attempt.idempotency_key.split('/')[2]}"]
    assert reminder == [f"reminder/{soon}/{iso_utc(rows.subscription(engine, soon).current_period_end)}"]
    assert rows.charges(engine, soon) == []
