"""Schedules on real PostgreSQL and Redis, with the time passed in: each slot fired once by any
number of schedulers, late ticks, pause and resume, a lost send repaired once, run outcomes
recorded by the worker, and one alert per overdue episode."""

from datetime import UTC, datetime, timedelta

import dramatiq
import pytest
from sqlalchemy import text

from core.errors import PermanentError
from core.rules.schedules import ScheduledJob, Trigger
from db.engine import transaction
from db.unit_of_work import UnitsOfWork
from services.schedule_controls import ScheduleControls
from services.schedule_watch import ScheduleNotFound, ScheduleWatch
from services.schedules import Schedules
from tests.conftest import make_settings
from tests.support.clock import FakeClock
from tests.support.waiting import wait_for
from worker.broker import build_broker
from worker.messages import BrokerSender

JOB = "stock-cleanup"
T0 = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)


@pytest.fixture
def clean(engine):
    with transaction(engine) as session:
        session.execute(
            text("DELETE FROM schedule_run; DELETE FROM schedule_state; DELETE FROM schedule_action")
        )
        session.execute(text("DELETE FROM email_outbox WHERE idempotency_key LIKE 'schedule-overdue/%'"))


@pytest.fixture
def quiet(settings):
    """A broker of its own that no worker consumes, to count what the scheduler enqueued."""
    broker = build_broker(make_settings(settings.database_url, settings.redis_url))
    return broker


def scheduler(engine, settings, broker, clock, identity="s1", **job):
    table = [ScheduledJob(JOB, Trigger(job.pop("spec", "1m")), **job)]
    return Schedules(UnitsOfWork(engine, BrokerSender(broker)), settings, clock, table, identity)


def runs(engine):
    with transaction(engine) as session:
        return session.execute(
            text(
                "SELECT scheduled_for, state, message_id, fired_by, dead_letter_id FROM schedule_run "
                "WHERE job_name = :j ORDER BY scheduled_for"
            ),
            {"j": JOB},
        ).all()


def queued(broker):
    return broker.client.llen(f"{broker.namespace}:stock")


def test_two_schedulers_fire_each_slot_once(clean, engine, settings, quiet):
    clock = FakeClock(T0 + timedelta(seconds=2))
    one, two = (scheduler(engine, settings, quiet, clock, identity) for identity in ("s1", "s2"))
    assert len(one.tick()) == 1 and two.tick() == []
    clock.advance(60)
    assert len(two.tick()) == 1 and one.tick() == []
    assert [(r.scheduled_for, r.state) for r in runs(engine)] == [
        (T0, "sent"),
        (T0 + timedelta(minutes=1), "sent"),
    ]
    assert queued(quiet) == 2


def test_a_late_tick_fires_its_own_slot_and_records_the_ones_its_policy_drops(clean, engine, settings, quiet):
    clock = FakeClock(T0 + timedelta(seconds=1))
    scheduler(engine, settings, quiet, clock).tick()
    clock.advance(5 * 60 + 20)  # a paused process: four slots went by, the fifth is on time
    scheduler(engine, settings, quiet, clock).tick()
    states = [(r.scheduled_for.minute, r.state) for r in runs(engine)]
    assert states == [
        (0, "sent"),
        (1, "skipped"),
        (2, "skipped"),
        (3, "skipped"),
        (4, "skipped"),
        (5, "sent"),
    ]
    catch_up = scheduler(engine, settings, quiet, clock, misfire="catch_up", catch_up_max=2)
    clock.advance(4 * 60)
    catch_up.tick()
    assert [(r.scheduled_for.minute, r.state) for r in runs(engine)][-4:] == [
        (6, "skipped"),
        (7, "sent"),
        (8, "sent"),
        (9, "sent"),
    ]


def test_a_paused_job_fires_nothing_and_resumes_by_its_policy(clean, engine, settings, quiet):
    clock = FakeClock(T0 + timedelta(seconds=1))
    ticking = scheduler(engine, settings, quiet, clock)
    controls = ScheduleControls(ticking.units, clock, ticking.table)
    ticking.tick()
    controls.pause(JOB, by="oncall@example.com", reason="supplier outage")
    for _ in range(3):
        clock.advance(60)
        assert ticking.tick() == []
    controls.resume(JOB, by="oncall@example.com", reason="over")
    assert len(ticking.tick()) == 1  # fire_once: the newest missed slot, the rest recorded skipped
    assert [r.state for r in runs(engine)] == ["sent", "skipped", "skipped", "sent"]
    # A manual run works whatever the pause, and is not a slot of the trigger.
    controls.pause(JOB, by="oncall@example.com")
    assert controls.run_now(JOB, by="oncall@example.com", reason="by hand")
    with transaction(engine) as session:
        actions = session.execute(text("SELECT action, by FROM schedule_action ORDER BY id")).all()
    assert [a.action for a in actions] == ["pause", "resume", "pause", "run"]
    with pytest.raises(ScheduleNotFound):
        controls.pause("no-such-job", by="x")


def test_a_slot_claimed_while_the_broker_was_down_is_sent_once_when_it_is_back(
    clean, engine, settings, quiet
):
    clock = FakeClock(T0 + timedelta(seconds=1))
    down = build_broker(make_settings(settings.database_url, "redis://127.0.0.1:1/0"))
    assert scheduler(engine, settings, down, clock).tick() == []
    assert [(r.state, r.message_id) for r in runs(engine)] == [("not_sent", None)]
    clock.advance(20)
    one, two = (
        scheduler(engine, settings, quiet, clock, "s1"),
        scheduler(engine, settings, quiet, clock, "s2"),
    )
    assert one.resend_unsent() + two.resend_unsent() == 1
    assert [r.state for r in runs(engine)] == ["sent"] and queued(quiet) == 1
    assert one.resend_unsent() == 0


def test_the_worker_records_each_runs_outcome_and_its_dead_letter(clean, engine, settings, broker, worker):
    def always_fails() -> None:
        raise PermanentError("the job's provider refused")

    dramatiq.actor(always_fails, actor_name="tests.schedule_fails", queue_name="tests", broker=broker)
    worker.consumer_whitelist = None
    clock = FakeClock(datetime.now(UTC))
    ticking = scheduler(engine, settings, broker, clock)
    ticking.tick()
    wait_for(lambda: runs(engine)[0].state == "succeeded", what="the run to succeed")
    with transaction(engine) as session:
        run_id = session.execute(
            text(
                "INSERT INTO schedule_run (job_name, scheduled_for, fired_by, state) "
                "VALUES (:j, :s, 't', 'sent') RETURNING id"
            ),
            {"j": JOB, "s": T0},
        ).scalar_one()
    broker.declare_queue("tests")
    broker.enqueue(
        dramatiq.Message(
            queue_name="tests",
            actor_name="tests.schedule_fails",
            args=(),
            kwargs={},
            options={"schedule_run_id": run_id},
        )
    )
    failed = wait_for(
        lambda: [r for r in runs(engine) if r.scheduled_for == T0 and r.state == "failed"], what="failed"
    )
    assert failed[0].dead_letter_id is not None


def test_an_overdue_job_alerts_once_per_episode(clean, engine, settings, quiet, resend_server):
    clock = FakeClock(T0)
    ticking = scheduler(engine, settings, quiet, clock, grace=timedelta(minutes=1))
    watch = ScheduleWatch(ticking.units, settings, clock, ticking.table)
    assert watch.check_overdue() == []  # first seen now: it gets its period and grace first
    clock.advance(3 * 60)
    assert watch.check_overdue() == [JOB]
    assert watch.check_overdue() == [JOB]  # still overdue: no second alert
    with transaction(engine) as session:
        alerts = session.execute(
            text("SELECT count(*) FROM email_outbox WHERE idempotency_key LIKE :k"),
            {"k": f"schedule-overdue/{JOB}/%"},
        ).scalar_one()
        session.execute(
            text(
                "INSERT INTO schedule_run (job_name, scheduled_for, fired_by, state, finished_at) "
                "VALUES (:j, :s, 't', 'succeeded', :now)"
            ),
            {"j": JOB, "s": clock(), "now": clock()},
        )
    assert alerts == 1
    assert watch.check_overdue() == []  # a success ends the episode
    view = watch.overview()[0]
    assert view["job"] == JOB and view["overdue"] is False and view["last_success"] == clock()


def test_a_paused_job_is_not_resent_and_a_manual_run_that_cannot_be_sent_is_failed(
    clean, engine, settings, quiet
):
    """Found by review: a run claimed before a pause was resent anyway; a manual run whose send
    failed was resent later although the operator was told it failed."""
    from core.errors import Unavailable

    clock = FakeClock(T0 + timedelta(seconds=1))
    down = build_broker(make_settings(settings.database_url, "redis://127.0.0.1:1/0"))
    scheduler(engine, settings, down, clock).tick()
    controls = ScheduleControls(
        scheduler(engine, settings, quiet, clock).units, clock, [ScheduledJob(JOB, Trigger("1m"))]
    )
    controls.pause(JOB, by="oncall")
    clock.advance(30)
    assert scheduler(engine, settings, quiet, clock).resend_unsent() == 0
    broken = ScheduleControls(scheduler(engine, settings, down, clock).units, clock, controls.table)
    with pytest.raises(Unavailable):
        broken.run_now(JOB, by="oncall")
    assert sorted(r.state for r in runs(engine)) == ["failed", "not_sent"]
