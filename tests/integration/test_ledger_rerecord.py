"""Recording a message the ledger already holds keeps what people did with it."""

from __future__ import annotations

import uuid

import dramatiq
import pytest

from db.engine import transaction
from db.queries import dead_letters
from services.dead_letters import AlreadyReplayed
from tests.support.dead_letters import dead_letter_service, insert_dead_letter
from worker.database import database
from worker.ledger_recovery import sweep_redis_dead_letters


def stale_copy_in_redis(broker, message: dramatiq.Message) -> None:
    """The message left in Redis's dead-letter set, as when the ledger committed but Redis was not
    cleaned up: the reconciler's sweep records it a second time."""
    xqueue = f"{broker.namespace}:{message.queue_name}.XQ"
    redis_id = uuid.uuid4().hex
    broker.client.hset(f"{xqueue}.msgs", redis_id, message.encode())
    broker.client.zadd(xqueue, {redis_id: 0})


def test_a_replayed_entry_stays_replayed_when_its_message_is_recorded_again(engine, broker):
    message: dramatiq.Message = dramatiq.Message(
        queue_name="rerecord", actor_name="tests.job", args=(7,), kwargs={}, options={"retries": 3}
    )
    entry = insert_dead_letter(engine, message_id=message.message_id, queue="rerecord", args=[7])
    with transaction(engine) as session:
        dead_letters.mark_replayed(session, entry)  # an operator replayed it
    stale_copy_in_redis(broker, message)

    assert sweep_redis_dead_letters(broker, database(broker), ["rerecord"]) == 1

    with transaction(engine) as session:
        row = dead_letters.get(session, entry)
    assert row is not None
    assert (row["state"], row["replay_count"]) == ("replayed", 1)
    with pytest.raises(AlreadyReplayed):  # so it is not replayed a second time by accident
        dead_letter_service(engine, broker).replay(entry, by="oncall@example.com")
