"""The unit of work: one transaction, and the messages it made necessary, sent after it commits.

A service adds messages with `uow.send_after_commit(...)` while it works; they leave only once
the transaction has committed (so a worker never looks for a row that is not there yet), and
not at all when it fails. A message that cannot be sent after the commit is logged and left to
the reconciler: the intent it carries is already durable in PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from core.logging import get_logger
from core.messages import Outgoing, Send
from db.engine import transaction

log = get_logger("backroom.db.unit_of_work")
# Called with the error, instead of the log line, when a message could not be sent after the
# commit: it may undo what the transaction recorded and re-raise (a replay, a reconciler's claim).
IfUnsent = Callable[[Exception], None]


@dataclass
class UnitOfWork:
    session: Session
    outbox: list[tuple[Outgoing, IfUnsent | None]] = field(default_factory=list)

    def send_after_commit(
        self, actor_name: str, queue: str, *args: Any, if_unsent: IfUnsent | None = None
    ) -> None:
        self.send_message_after_commit(Outgoing(actor_name, queue, args), if_unsent=if_unsent)

    def send_message_after_commit(self, message: Outgoing, *, if_unsent: IfUnsent | None = None) -> None:
        """A whole message (kwargs, options, an id chosen beforehand), e.g. a dead letter's replay."""
        self.outbox.append((message, if_unsent))


@dataclass(frozen=True)
class UnitsOfWork:
    """What a service is given: opens units of work on one engine and sends through one sender."""

    engine: Engine
    send: Send

    @contextmanager
    def begin(self) -> Iterator[UnitOfWork]:
        with transaction(self.engine) as session:
            uow = UnitOfWork(session)
            yield uow
        # Committed: now, and only now, the messages it decided.
        self.deliver(uow.outbox)

    def deliver(self, outbox: list[tuple[Outgoing, IfUnsent | None]]) -> None:
        """Send what a committed unit of work decided; a failed send goes to its `if_unsent`
        hook, else to the log (the intent is durable in Postgres: the reconciler sends it)."""
        for message, if_unsent in outbox:
            try:
                self.send(message)
            except Exception as error:
                if if_unsent is not None:
                    if_unsent(error)
                    continue
                # Durable in Postgres; the reconciler sends it again.
                log.warning(
                    "message.send_failed_after_commit",
                    actor=message.actor_name,
                    args=list(message.args),
                    error=type(error).__name__,
                )
