"""The reconciler on a real worker process: an event that fails every time dies once, not once a tick."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from core.settings import Settings
from db.engine import make_engine, transaction
from db.queries import outbox, webhooks
from tests.conftest import RESEND_KEY
from tests.support.dead_letters import dead_letter_service
from tests.support.fresh_database import fresh_settings
from tests.support.resend_server import ResendServer
from tests.support.servers import Servers
from tests.support.waiting import wait_for
from tests.support.worker_process import in_flight, worker_process
from worker.broker import build_broker
from worker.messages import enqueue

# Short retries so a whole chain ends in a few seconds: 3 attempts of at most 1 s, 10-20 ms apart.
QUEUES = ["webhooks", "email", "reconcile"]
SHORT = {"job_max_retries": 2, "job_min_backoff_ms": 10, "job_max_backoff_ms": 20, "job_time_limit_ms": 1000}


@pytest.fixture(scope="module")
def resend() -> Iterator[ResendServer]:
    with ResendServer(api_key=RESEND_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def short_settings(servers: Servers, resend: ResendServer) -> Iterator[Settings]:
    """A database of its own (the reconciler scans whole tables) and a Redis namespace of its own."""
    resend_settings = {"resend_api_key": RESEND_KEY, "resend_api_url": resend.url}
    with fresh_settings(
        servers, "backroom_reconcile", reconcile_after_seconds=5, **SHORT, **resend_settings
    ) as settings:
        engine = make_engine(settings)
        # A real database rule the worker cannot get past: these events can never leave `received`,
        # so every attempt to settle one fails (a retryable IntegrityError), every time.
        with transaction(engine) as session:
            session.execute(
                text(
                    "ALTER TABLE webhook_event ADD CONSTRAINT never_settles "
                    "CHECK (event_id NOT LIKE 'never-settles-%' OR state = 'received')"
                )
            )
        engine.dispose()
        yield settings


@pytest.fixture(scope="module")
def short_engine(short_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(short_settings)
    yield engine
    engine.dispose()


def store_lost_event(engine: Engine) -> int:
    """An event stored an hour ago whose message Redis lost: only the reconciler can send it."""
    event_id = f"never-settles-{uuid.uuid4().hex[:12]}"
    with transaction(engine) as session:
        row_id = webhooks.store_event(
            session,
            provider="stripe",
            event_id=event_id,
            event_type="customer.created",
            payload={"id": event_id, "type": "customer.created", "data": {"object": {"id": "cus_1"}}},
            headers={},
        )
        assert row_id is not None
        session.execute(
            text("UPDATE webhook_event SET received_at = now() - interval '1 hour' WHERE id = :id"),
            {"id": row_id},
        )
    return row_id


def dead_letters_for(engine: Engine, row_id: int, actor: str = "webhooks.process") -> list[dict]:
    with transaction(engine) as session:
        rows = session.execute(
            text(
                "SELECT id, message_id, attempts, exception_type, state FROM dead_letter "
                "WHERE actor = :actor AND args = jsonb_build_array(:id) ORDER BY id"
            ),
            {"id": row_id, "actor": actor},
        ).mappings()
        return [dict(row) for row in rows]


def quiet(settings: Settings) -> bool:
    return all(in_flight(settings, queue) == 0 for queue in ("reconcile", "webhooks", "email"))


def tick(broker, settings: Settings) -> None:
    """One reconcile run, as the scheduler starts it, and every chain it started run to its end."""
    enqueue(broker, "reconcile")
    wait_for(lambda: quiet(settings), timeout=60, what="the reconcile run and the chains it started")


def test_an_event_that_always_fails_is_dead_lettered_once_over_five_ticks(
    short_settings, short_engine, tmp_path: Path
):
    row_id = store_lost_event(short_engine)
    broker = build_broker(short_settings)
    with worker_process(short_settings, QUEUES, tmp_path / "worker.log"):
        for _ in range(5):
            tick(broker, short_settings)
    entries = dead_letters_for(short_engine, row_id)
    log = (tmp_path / "worker.log").read_text()
    assert len(entries) == 1, f"{len(entries)} dead letters for one event\n{log[-2000:]}"
    [entry] = entries
    assert entry["state"] == "dead" and entry["attempts"] == 3  # the whole short chain ran once
    assert "IntegrityError" in entry["exception_type"]
    with transaction(short_engine) as session:
        state = session.execute(text("SELECT state FROM webhook_event WHERE id = :id"), {"id": row_id})
        assert state.scalar_one() == "received"  # still waiting: for an operator's replay now


def store_lost_email(engine: Engine) -> tuple[int, str]:
    """An outbox row written an hour ago whose message Redis lost."""
    key = f"test/{uuid.uuid4().hex}"
    with transaction(engine) as session:
        outbox_id = outbox.add_email(
            session,
            key=key,
            template="payment_failed",
            to="ada@example.com",
            context={"checkout_id": "co-1", "reason": "card declined"},
        )
        session.execute(
            text("UPDATE email_outbox SET created_at = now() - interval '1 hour' WHERE id = :id"),
            {"id": outbox_id},
        )
    assert outbox_id is not None
    return outbox_id, key


def email_row(engine: Engine, outbox_id: int):
    with transaction(engine) as session:
        return session.execute(text("SELECT * FROM email_outbox WHERE id = :id"), {"id": outbox_id}).one()


def test_an_email_refused_for_its_key_dies_once_and_its_replay_sends_it_once(
    short_settings, short_engine, resend, tmp_path: Path
):
    outbox_id, key = store_lost_email(short_engine)
    broker = build_broker(short_settings)
    resend.api_key = "re_after_rotation_999"  # the key was rotated at Resend; ours is refused (403)
    try:
        with worker_process(short_settings, QUEUES, tmp_path / "worker.log"):
            for _ in range(5):
                tick(broker, short_settings)
            entries = dead_letters_for(short_engine, outbox_id, "email.send")
            assert len(entries) == 1 and entries[0]["attempts"] == 3  # retried, then dead once
            row = email_row(short_engine, outbox_id)
            assert row.state == "pending" and "refused the API key (403" in row.last_error

            resend.api_key = RESEND_KEY  # the key is put right
            dead_letter_service(short_engine, broker).replay(entries[0]["id"], by="oncall@example.com")
            wait_for(lambda: email_row(short_engine, outbox_id).state == "sent", timeout=30, what="replay")
            tick(broker, short_settings)
    finally:
        resend.api_key = RESEND_KEY
    assert len([e for e in resend.emails if e.idempotency_key == key]) == 1
    log = (tmp_path / "worker.log").read_text()
    assert '"email.provider_rejected_key"' in log and RESEND_KEY not in log
