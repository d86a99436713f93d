"""Which stuck intents the reconciler may send again, on real Postgres, with `now` passed in."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from core.messages import Outgoing
from db.engine import make_engine, transaction
from db.queries import dead_letters, outbox, stuck_intents, webhooks
from db.unit_of_work import UnitsOfWork
from services.dead_letters import DeadLetters
from services.reconcile import Reconciler
from tests.support.dead_letters import insert_dead_letter
from tests.support.fresh_database import fresh_settings
from tests.support.servers import Servers

WAIT = timedelta(minutes=10)  # the actor's whole retry span plus the grace
GRACE = timedelta(minutes=2)  # RECONCILE_AFTER_SECONDS
WEBHOOK, EMAIL = "webhooks.process", "email.send"


@pytest.fixture(scope="module")
def db(servers: Servers) -> Iterator[Engine]:
    """A database of its own: claiming stamps every due row of a table, not only this test's."""
    with fresh_settings(servers, "backroom_claims") as settings:
        engine = make_engine(settings)
        yield engine
        engine.dispose()


def sends_nothing(message: Outgoing) -> str:
    raise AssertionError(f"a purge sends nothing ({message.actor_name})")


def now_of(engine: Engine) -> datetime:
    with transaction(engine) as session:
        return session.execute(text("SELECT now()")).scalar_one()


def event(engine: Engine, *, age: timedelta) -> int:
    with transaction(engine) as session:
        row_id = webhooks.store_event(
            session,
            provider="stripe",
            event_id=uuid.uuid4().hex,
            event_type="customer.created",
            payload={},
            headers={},
        )
        session.execute(
            text("UPDATE webhook_event SET received_at = now() - :age WHERE id = :id"),
            {"age": age, "id": row_id},
        )
    assert row_id is not None
    return row_id


def claim(engine: Engine, intent: stuck_intents.Intent, actor: str, at: datetime) -> list[int]:
    with transaction(engine) as session:
        return stuck_intents.claim(
            session, intent, actor=actor, now=at, resend_after=WAIT, limit=500, grace=GRACE
        )


def test_a_lost_message_is_sent_again_once_per_retry_span(db):
    t0 = now_of(db)
    row_id = event(db, age=WAIT + timedelta(seconds=1))
    fresh = event(db, age=WAIT - timedelta(seconds=30))
    assert claim(db, webhooks.STUCK, WEBHOOK, t0) == [row_id]  # the fresh one's first chain may live
    assert claim(db, webhooks.STUCK, WEBHOOK, t0 + timedelta(seconds=10)) == []  # so may ours, sent at t0
    assert claim(db, webhooks.STUCK, WEBHOOK, t0 + WAIT + timedelta(seconds=1)) == [row_id, fresh]


def test_an_intent_with_a_dead_letter_waits_for_its_replay(db):
    t0 = now_of(db)
    row_id = event(db, age=timedelta(days=1))
    entry = insert_dead_letter(db, queue="webhooks", actor=WEBHOOK, args=[row_id])
    other = insert_dead_letter(db, queue="email", actor=EMAIL, args=[row_id])  # another actor's id space
    assert row_id not in claim(db, webhooks.STUCK, WEBHOOK, t0 + timedelta(days=30))
    # An operator replays it at t0: that send's chain may live for a whole span too.
    with transaction(db) as session:
        dead_letters.mark_replayed(session, entry)
        dead_letters.audit(
            session, dead_letter_id=entry, message_id="m", action="replay", by="oncall", reason=None
        )
    assert row_id not in claim(db, webhooks.STUCK, WEBHOOK, t0 + WAIT - timedelta(seconds=5))
    assert row_id in claim(db, webhooks.STUCK, WEBHOOK, t0 + WAIT + timedelta(seconds=5))
    with transaction(db) as session:  # the tests share a database: leave no dead email behind
        dead_letters.delete(session, other)


def test_a_claim_whose_message_was_not_sent_is_due_again(db):
    t0 = now_of(db)
    row_id = event(db, age=timedelta(hours=2))
    assert row_id in claim(db, webhooks.STUCK, WEBHOOK, t0)
    with transaction(db) as session:
        stuck_intents.release(session, webhooks.STUCK, [row_id])
    assert row_id in claim(db, webhooks.STUCK, WEBHOOK, t0)


def test_pending_emails_follow_the_same_rule_and_failed_ones_are_left_alone(db):
    with transaction(db) as session:
        ids = [
            outbox.add_email(session, key=uuid.uuid4().hex, template="t", to="a@example.com", context={})
            for _ in range(3)
        ]
        session.execute(
            text("UPDATE email_outbox SET created_at = now() - interval '1 day' WHERE id = ANY(:ids)"),
            {"ids": ids},
        )
        session.execute(text("UPDATE email_outbox SET state = 'failed' WHERE id = :id"), {"id": ids[2]})
    insert_dead_letter(db, queue="email", actor=EMAIL, args=[ids[1]])
    at = datetime.now(UTC) + timedelta(days=2)
    assert [i for i in claim(db, outbox.STUCK, EMAIL, at) if i in ids] == [ids[0]]


def test_purging_a_dead_letter_closes_its_intent_for_good(db):
    """Found by review: the purge removed the only thing that held the reconciler back."""
    t0 = now_of(db)
    row_id = event(db, age=timedelta(days=1))
    entry = insert_dead_letter(db, queue="webhooks", actor=WEBHOOK, args=[row_id])
    DeadLetters(UnitsOfWork(db, sends_nothing)).purge(entry, by="oncall", reason="drop it")
    assert row_id not in claim(db, webhooks.STUCK, WEBHOOK, t0 + timedelta(days=30))
    with transaction(db) as session:
        state, note = session.execute(
            text("SELECT state, note FROM webhook_event WHERE id = :id"), {"id": row_id}
        ).one()
    assert (state, note) == ("ignored", f"dead letter {entry} purged by oncall")


def test_an_intent_whose_first_send_failed_is_sent_after_the_grace_alone(db):
    """Found by review: a broker blip at intake made a payment wait a whole retry span (~1 h)."""
    t0 = now_of(db)
    row_id = event(db, age=GRACE + timedelta(seconds=1))
    assert row_id not in claim(db, webhooks.STUCK, WEBHOOK, t0)
    with transaction(db) as session:
        stuck_intents.mark_unsent(session, webhooks.STUCK, [row_id])
    assert row_id in claim(db, webhooks.STUCK, WEBHOOK, t0)
    assert row_id not in claim(db, webhooks.STUCK, WEBHOOK, t0 + timedelta(seconds=1))  # now sent


def reconciler(engine: Engine, send: Callable[[Outgoing], str], at: datetime) -> Reconciler:
    spans = {WEBHOOK: WAIT - GRACE, EMAIL: WAIT - GRACE}
    return Reconciler(UnitsOfWork(engine, send), lambda: at, GRACE, spans, lambda: 0)


def test_the_reconciler_sends_each_claim_after_commit_and_releases_what_it_could_not_send(db):
    """Last in the module: a run claims every due row of this database."""
    t0 = now_of(db)
    row_id = event(db, age=timedelta(days=1))

    def broker_down(message: Outgoing) -> str:
        raise ConnectionError("redis is down")

    with pytest.raises(ConnectionError):
        reconciler(db, broker_down, t0).reconcile_stuck_intents()
    sent: list[Outgoing] = []

    def broker_up(message: Outgoing) -> str:
        sent.append(message)
        return uuid.uuid4().hex

    done = reconciler(db, broker_up, t0).reconcile_stuck_intents()  # released: due again at once
    assert Outgoing(WEBHOOK, "webhooks", (row_id,)) in sent
    assert done["webhook_events"] == len([m for m in sent if m.actor_name == WEBHOOK])
    assert row_id not in claim(db, webhooks.STUCK, WEBHOOK, t0 + timedelta(seconds=1))  # now sent
