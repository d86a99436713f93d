"""RabbitMQ's dead-letter queues drained into the ledger: a purge stays a purge, one bad message
blocks none behind it, and with RabbitMQ down a webhook is still stored and answered (review of
the broker switch; the first two failed before their fixes)."""

from __future__ import annotations

import dramatiq
import pytest
from dramatiq.common import xq_name

from db.engine import transaction
from db.queries import dead_letters
from tests.conftest import make_settings
from tests.support.dead_letters import dead_letter_service, insert_dead_letter
from tests.support.test_broker import on_rabbitmq
from worker.broker import build_broker
from worker.database import database
from worker.ledger_recovery import sweep_dead_letters
from worker.queue_stats import queue_stats

pytestmark = [pytest.mark.broker, pytest.mark.skipif(not on_rabbitmq(), reason="RabbitMQ only")]


@pytest.fixture
def idle(settings):
    broker = build_broker(make_settings(settings.database_url, settings.redis_url))
    yield broker
    broker.close()


def dead_lettered(broker, body: bytes, queue: str) -> None:
    broker.declare_queue(queue, ensure=True)
    broker.channel.basic_publish(exchange="", routing_key=xq_name(queue), body=body)


def test_a_purged_dead_letter_is_not_brought_back_by_the_next_sweep(idle, engine):
    """The middleware records the dead letter, then the nack puts the same message in XQ. An
    operator purges the entry before the reconciler's next sweep: it must stay purged."""
    message = dramatiq.Message(queue_name="purge", actor_name="tests.job", args=(), kwargs={}, options={})
    entry_id = insert_dead_letter(engine, message_id=message.message_id, queue="purge")
    dead_lettered(idle, message.encode(), "purge")
    dead_letter_service(engine, idle).purge(entry_id, by="reviewer")

    sweep_dead_letters(idle, database(idle), ["purge"])

    with transaction(engine) as session:
        assert not dead_letters.holds(session, message.message_id), "the purged dead letter came back"
        assert not dead_letters.settled(session, "another-message")


def test_one_undecodable_dead_letter_does_not_block_the_ones_behind_it(idle, engine):
    """Dramatiq's consumer nacks an undecodable message (requeue=False): RabbitMQ puts it in XQ.
    The sweep puts it back at the head and stops, so no later dead letter is ever recorded."""
    dead_lettered(idle, b"not json", "blocked")
    lost = dramatiq.Message(queue_name="blocked", actor_name="tests.job", args=(), kwargs={}, options={})
    dead_lettered(idle, lost.encode(), "blocked")

    for _ in range(3):  # three reconciler runs
        sweep_dead_letters(idle, database(idle), ["blocked"])

    with transaction(engine) as session:
        assert dead_letters.holds(session, lost.message_id), "never recorded: stuck behind the bad one"
    assert queue_stats(idle, ["blocked"])[0].dead_in_broker <= 1


def test_rabbitmq_down_at_enqueue_keeps_the_event_and_answers_200_quickly(settings, engine):
    import time

    import falcon.testing
    from sqlalchemy import text

    from api.app import create_app
    from db.queries.webhooks import close_received
    from tests.integration.test_webhooks_api import _payload, _post, _rows
    from tests.support.payloads import signed

    down = make_settings(
        settings.database_url, settings.redis_url, broker_url="amqp://backroom:S3cretPW@127.0.0.1:1/%2F"
    )
    client = falcon.testing.TestClient(create_app(down, engine=engine))
    marker, payload = _payload("paystack")
    raw, headers = signed("paystack", payload)
    started = time.monotonic()
    answer = _post(client, "paystack", raw, headers)
    assert time.monotonic() - started < 5
    assert answer.status_code == 200
    [(row_id, _, state)] = _rows(engine, "paystack", marker)
    with transaction(engine) as session:
        unsent = session.execute(
            text("SELECT last_enqueued_at = '-infinity' FROM webhook_event WHERE id = :id"), {"id": row_id}
        ).scalar_one()
        close_received(session, row_id, "test done")
    assert state == "received" and unsent is True
