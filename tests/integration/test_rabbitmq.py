"""RabbitMQ as the broker (the `make test` pass with TEST_BROKER=rabbitmq): queue stats from AMQP,
quorum queues, Dramatiq's dead-letter queues drained into the ledger, and a worker stopped mid-way
losing nothing."""

from __future__ import annotations

import threading

import dramatiq
import pika.exceptions
import pytest
from dramatiq.common import xq_name

from db.engine import transaction
from db.queries import dead_letters
from tests.conftest import make_settings
from tests.support.dead_letters import insert_dead_letter
from tests.support.test_broker import on_rabbitmq
from tests.support.waiting import wait_for
from worker.broker import build_broker
from worker.database import database
from worker.ledger_recovery import sweep_dead_letters
from worker.queue_stats import queue_stats
from worker.rabbitmq import QUORUM_SINCE, server_version

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(
        not on_rabbitmq(), reason="RabbitMQ only: runs in make test's TEST_BROKER=rabbitmq pass"
    ),
]


@pytest.fixture
def idle(settings):
    """A broker on queues of its own that no worker consumes."""
    broker = build_broker(make_settings(settings.database_url, settings.redis_url))
    yield broker
    broker.close()


def test_queue_stats_count_ready_delayed_and_dead_and_leave_unknowns_unknown(idle):
    for _ in range(2):
        idle.enqueue(dramatiq.Message(queue_name="email", actor_name="x", args=(), kwargs={}, options={}))
    idle.enqueue(
        dramatiq.Message(queue_name="email", actor_name="x", args=(), kwargs={}, options={}), delay=600_000
    )
    (email, never) = queue_stats(idle, ["email", "never-used"])
    assert (email.ready, email.delayed, email.dead_in_broker) == (2, 1, 0)
    # Unacked messages and the head message's age need the management API: unknown, not 0.
    assert email.in_flight is None and email.oldest_age_seconds is None
    assert email.as_dict()["dead_in_redis"] == 0  # the old field name, kept for existing readers
    assert (never.ready, never.delayed, never.dead_in_broker) == (0, 0, 0)  # never declared: 0, no error


def test_quorum_queues_are_declared_when_the_server_supports_them(settings):
    quorum = build_broker(
        make_settings(settings.database_url, settings.redis_url, broker_queue_type="quorum")
    )
    try:
        if server_version(quorum.connection) < QUORUM_SINCE:
            pytest.skip(f"RabbitMQ {server_version(quorum.connection)} has no quorum queues")
        quorum.declare_queue("orders", ensure=True)
        classic = build_broker(  # the same queues, declared as classic ones with the same arguments
            make_settings(settings.database_url, settings.redis_url, broker_queue_prefix=quorum.prefix)
        )
        try:
            for declare in (classic._declare_queue, classic._declare_dq_queue, classic._declare_xq_queue):
                with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
                    declare("orders")
                del classic.channel  # RabbitMQ closed it
                # Only the type differs, and RabbitMQ refuses: the queue on the server is a quorum one.
                assert refused.value.reply_code == 406 and "x-queue-type" in refused.value.reply_text
        finally:
            classic.close()
    finally:
        quorum.close()


def dead_lettered(broker, message: dramatiq.Message) -> None:
    """Put a message into `<queue>.XQ` as RabbitMQ does when a worker nacks it."""
    broker.declare_queue(message.queue_name, ensure=True)
    broker.channel.basic_publish(exchange="", routing_key=xq_name(message.queue_name), body=message.encode())


def test_dead_letters_in_the_xq_are_drained_into_the_ledger(idle, engine):
    trace = 'Traceback:\n  File "/app/jobs/email.py", line 9, in send\nTimeoutError: provider slow'
    lost = dramatiq.Message(  # Postgres was down when it died: the ledger never saw it
        queue_name="sweep", actor_name="email.send", args=(41,), kwargs={}, options={"traceback": trace}
    )
    held = dramatiq.Message(queue_name="sweep", actor_name="email.send", args=(42,), kwargs={}, options={})
    held_id = insert_dead_letter(engine, message_id=held.message_id, queue="sweep", args=[42])
    dead_lettered(idle, lost)
    dead_lettered(idle, held)
    wait_for(lambda: queue_stats(idle, ["sweep"])[0].dead_in_broker == 2, what="both in sweep.XQ")

    assert sweep_dead_letters(idle, database(idle), ["sweep"]) == 1  # only the one the ledger lacked

    assert queue_stats(idle, ["sweep"])[0].dead_in_broker == 0  # both acknowledged away
    with transaction(engine) as session:
        rows = dead_letters.page(session, dead_letters.Filter(queue="sweep"), limit=10, before=None)
    by_message = {row["message_id"]: row for row in rows}
    assert by_message[lost.message_id]["exception_type"] == "TimeoutError"
    assert by_message[lost.message_id]["actor"] == "email.send"
    assert by_message[held.message_id]["id"] == held_id
    assert by_message[held.message_id]["exception_type"] == "TimeoutError"  # untouched: insert_dead_letter's
    assert sweep_dead_letters(idle, database(idle), ["sweep"]) == 0  # nothing left to drain


def test_a_worker_stopped_mid_way_loses_no_message(settings):
    """Messages fetched but not started when the worker stops go back to the queue (RabbitMQ
    redelivers what was never acknowledged); the one running finishes first."""
    broker = build_broker(make_settings(settings.database_url, settings.redis_url))
    started, release, done = threading.Event(), threading.Event(), []

    def slow(n: int) -> None:
        started.set()
        release.wait(10)
        done.append(n)

    actor = dramatiq.actor(slow, actor_name="tests.slow", queue_name="slow", broker=broker)
    for n in range(4):
        actor.send(n)
    first = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    first.start()
    try:
        wait_for(started.is_set, what="the first message to start")
        threading.Timer(0.5, release.set).start()
    finally:
        first.stop(timeout=10_000)  # waits for the running message; the prefetched ones go back
    assert len(done) == 1
    second = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    second.start()
    try:
        wait_for(lambda: sorted(done) == [0, 1, 2, 3], timeout=30, what="every message run once")
        assert queue_stats(broker, ["slow"])[0].ready == 0
    finally:
        second.stop(timeout=10_000)
        broker.close()
    assert len(done) == 4  # none ran twice


def test_the_reconcile_job_drains_the_xq_on_a_real_worker(broker, worker, engine):
    """The reconciler, as the scheduler starts it, records what RabbitMQ holds in `email.XQ`."""
    from worker.messages import enqueue

    lost = dramatiq.Message(queue_name="email", actor_name="email.send", args=(0,), kwargs={}, options={})
    dead_lettered(broker, lost)
    enqueue(broker, "reconcile")

    def recorded():
        with transaction(engine) as session:
            return dead_letters.holds(session, lost.message_id)

    wait_for(recorded, timeout=30, what="the reconciler to record the XQ's message")
    wait_for(lambda: queue_stats(broker, ["email"])[0].dead_in_broker == 0, what="email.XQ drained")


def test_backroom_queues_and_the_admin_route_read_rabbitmq(cli, broker, client):
    import json

    from tests.conftest import ADMIN, auth

    broker.declare_queue("email", ensure=True)
    code, out = cli("queues", "--json")
    assert code == 0
    rows = {row["queue"]: row for row in json.loads(out.out)}
    assert rows["email"]["in_flight"] is None and rows["email"]["oldest_age_seconds"] is None
    assert {"ready", "delayed", "dead", "dead_in_broker", "dead_in_redis"} <= set(rows["email"])
    code, out = cli("queues")
    email = next(line.split() for line in out.out.splitlines() if line.startswith("email "))
    assert email[3] == "-" and email[-1] == "-"  # in_flight, oldest age: unknown on RabbitMQ
    answer = client.simulate_get("/v1/admin/queues", headers=auth(ADMIN))
    assert answer.status_code == 200
    assert {row["queue"] for row in answer.json["queues"]} >= {"email", "webhooks", "stock"}
    assert all(row["in_flight"] is None for row in answer.json["queues"])
    metrics = client.simulate_get("/metrics").text
    assert 'backroom_queue_depth{kind="ready",queue="email"}' in metrics
    assert 'kind="in_flight"' not in metrics  # unknown is left out, not reported as 0
    assert "backroom_queue_oldest_age_seconds{" not in metrics  # nor an empty queue's age as 0
