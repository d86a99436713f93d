"""Dead-letter rows written straight into the ledger, for tests of the fronts that read it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import dramatiq
from sqlalchemy import Engine

from db.engine import transaction
from db.queries import dead_letters
from db.unit_of_work import UnitsOfWork
from services.dead_letters import DeadLetters
from worker.messages import BrokerSender


def insert_dead_letter(engine: Engine, **overrides: Any) -> int:
    now = datetime.now(UTC)
    entry: dict[str, Any] = {
        "message_id": str(uuid.uuid4()),
        "queue": "tests",
        "actor": "tests.job",
        "args": [],
        "kwargs": {},
        "options": {},
        "attempts": 1,
        "exception_type": "TimeoutError",
        "exception_message": "timed out",
        "traceback": "Traceback\nTimeoutError: timed out",
        "fingerprint": uuid.uuid4().hex[:12],
        "origin": "jobs/x.py:run",
        "first_failed_at": now,
        "last_failed_at": now,
        "replay_of": None,
    }
    entry.update(overrides)
    with transaction(engine) as session:
        return dead_letters.record(session, entry)


def dead_letter_service(engine: Engine, broker: dramatiq.Broker) -> DeadLetters:
    """The service as the web and the CLI build it: replays sent on `broker` after commit."""
    return DeadLetters(UnitsOfWork(engine, BrokerSender(broker)))
