import threading
import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from core.schedule_table import Schedule
from db.engine import transaction
from schedules.runner import build_scheduler, fire
from tests.conftest import make_settings
from worker.broker import build_broker


def _fresh(settings):
    s = make_settings(settings.database_url, settings.redis_url)
    return s, build_broker(s)


def _queue_length(broker, queue="stock"):
    return broker.client.llen(f"{broker.namespace}:{queue}")


def _runs(engine, job, slot):
    with transaction(engine) as s:
        return s.execute(
            text("SELECT message_id FROM schedule_run WHERE job_name = :j AND scheduled_for = :s"),
            {"j": job, "s": slot},
        ).all()


def test_a_slot_fires_once_and_records_its_message(settings, engine):
    _, broker = _fresh(settings)
    schedule = Schedule("stock-cleanup", 300)
    # A slot far in the past that no other test uses.
    now = datetime(2001, 1, 1, 0, uuid.uuid4().int % 60, tzinfo=UTC)
    first = fire(engine, broker, schedule, now)
    second = fire(engine, broker, schedule, now)
    assert first is not None and second is None
    assert _queue_length(broker) == 1
    assert [r.message_id for r in _runs(engine, "stock-cleanup", schedule.slot(now))] == [first]


def test_two_schedulers_racing_fire_each_slot_once(settings, engine):
    shared, broker_a = _fresh(settings)
    broker_b = build_broker(shared)  # a second scheduler process on the same Redis and Postgres
    schedule = Schedule("stock-cleanup", 60)
    base = datetime(2002, 1, 1, uuid.uuid4().int % 24, tzinfo=UTC)
    barrier = threading.Barrier(2)

    def scheduler(broker):
        barrier.wait()
        for minute in range(20):
            fire(engine, broker, schedule, base.replace(minute=minute, second=7))

    threads = [threading.Thread(target=scheduler, args=(b,)) for b in (broker_a, broker_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _queue_length(broker_a) == 20
    with transaction(engine) as s:
        count = s.execute(
            text("SELECT count(*) FROM schedule_run WHERE scheduled_for >= :a AND scheduled_for < :b"),
            {"a": base, "b": base.replace(minute=20)},
        ).scalar_one()
    assert count == 20


def test_scheduler_has_one_job_per_schedule_row(settings, engine):
    s, broker = _fresh(settings)
    scheduler = build_scheduler(s, engine, broker)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"stock-cleanup", "reconcile", "dead-letter-retention"}
    assert jobs["reconcile"].trigger.interval.total_seconds() == 60
    assert jobs["stock-cleanup"].trigger.interval.total_seconds() == s.stock_cleanup_interval_minutes * 60
