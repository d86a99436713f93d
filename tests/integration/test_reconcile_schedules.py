"""The reconciler repairs recurring jobs when no scheduler runs: a run claimed while the broker was
down is sent by one reconcile run, with its slot; an overdue job gets its one alert from it. Real
PostgreSQL and Redis, the time passed in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine, text

from core.rules.schedules import ScheduledJob, Trigger
from core.settings import Settings
from db.engine import make_engine, transaction
from db.unit_of_work import UnitsOfWork
from services.reconcile import Reconciler
from services.schedules import Schedules
from tests.conftest import make_settings
from tests.support.clock import FakeClock
from tests.support.fresh_database import fresh_settings
from tests.support.servers import Servers
from worker.broker import build_broker
from worker.messages import BrokerSender

JOB = "stock-cleanup"


@pytest.fixture
def own(servers: Servers) -> Iterator[tuple[Settings, Engine]]:
    """A database of its own (the reconciler scans every job's runs) and a Redis namespace no
    worker consumes, so what it enqueued can be counted."""
    with fresh_settings(servers, "backroom_reconcile_schedules") as settings:
        engine = make_engine(settings)
        yield settings, engine
        engine.dispose()


def reconciler(
    settings: Settings, engine: Engine, broker: RedisBroker, clock: FakeClock, **job: Any
) -> Reconciler:
    table = [ScheduledJob(JOB, Trigger("1m"), **job)]
    units = UnitsOfWork(engine, BrokerSender(broker))
    spans = {"webhooks.process": timedelta(minutes=8), "email.send": timedelta(minutes=8)}
    return Reconciler(units, clock, timedelta(minutes=2), spans, lambda: 0, settings, table)


def queued(broker: RedisBroker, queue: str) -> list[dict]:
    """The messages waiting on a queue (the list holds Redis's own ids; the hash, the messages)."""
    ids = broker.client.lrange(f"{broker.namespace}:{queue}", 0, -1)
    return [json.loads(broker.client.hget(f"{broker.namespace}:{queue}.msgs", i)) for i in ids]


def runs(engine: Engine) -> list:
    with transaction(engine) as session:
        return session.execute(
            text("SELECT scheduled_for, state, message_id FROM schedule_run WHERE job_name = :j"), {"j": JOB}
        ).all()


def test_a_run_claimed_while_the_broker_was_down_is_sent_by_one_reconcile_run(own):
    settings, engine = own
    clock = FakeClock(datetime.now(UTC))
    down = build_broker(make_settings(settings.database_url, "redis://127.0.0.1:1/0"))
    table = [ScheduledJob(JOB, Trigger("1m"))]
    assert Schedules(UnitsOfWork(engine, BrokerSender(down)), settings, clock, table, "s1").tick() == []
    ((slot, state, message_id),) = runs(engine)
    assert (state, message_id) == ("not_sent", None)
    # No scheduler runs from here on; the broker is back and the reconciler comes by.
    up = build_broker(settings)
    clock.advance(20)
    done = reconciler(settings, engine, up, clock).reconcile_stuck_intents()
    assert done["schedule_runs"] == 1
    ((same_slot, state, message_id),) = runs(engine)
    assert (same_slot, state) == (slot, "sent") and message_id
    assert [m["message_id"] for m in queued(up, "stock")] == [message_id]
    clock.advance(60)
    assert reconciler(settings, engine, up, clock).reconcile_stuck_intents()["schedule_runs"] == 0
    assert len(queued(up, "stock")) == 1  # sent once, and no slot fired by it


def test_an_overdue_job_gets_its_one_alert_from_the_reconciler_with_no_scheduler(own):
    settings, engine = own
    clock = FakeClock(datetime.now(UTC))
    broker = build_broker(settings)
    reconcile = reconciler(settings, engine, broker, clock, grace=timedelta(minutes=1))

    def alerts() -> list:
        with transaction(engine) as session:
            return session.execute(
                text("SELECT id, to_address, state FROM email_outbox WHERE idempotency_key LIKE :k"),
                {"k": f"schedule-overdue/{JOB}/%"},
            ).all()

    def overdue_since() -> datetime | None:
        with transaction(engine) as session:
            return session.execute(
                text("SELECT overdue_since FROM schedule_state WHERE job_name = :j"), {"j": JOB}
            ).scalar_one()

    reconcile.reconcile_stuck_intents()  # first seen now: a period and its grace to succeed
    assert alerts() == [] and overdue_since() is None
    for _ in range(3):  # a reconcile run a minute, and never a scheduler
        clock.advance(60)
        reconcile.reconcile_stuck_intents()
    assert overdue_since() is not None
    ((email_id, to, _state),) = alerts()
    assert to == settings.alert_email
    assert [(m["actor_name"], m["args"]) for m in queued(broker, "email")] == [("email.send", [email_id])]
    assert runs(engine) == []  # the reconciler fires no slot: only schedulers do
