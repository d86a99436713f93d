"""Dead letters one at a time: find, read, replay and purge failed jobs (the CLI, the API and the
operator page call it; services/dead_letter_batches.py acts on every match of a filter)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlmodel import Session

from core.errors import Conflict, NotFound
from core.logging import get_logger
from core.messages import Outgoing
from core.rules.dead_letters import may_replay, replay_options
from db.queries import alerts, outbox, webhooks
from db.queries import dead_letters as q
from db.queries.dead_letters import Filter
from db.unit_of_work import UnitsOfWork

__all__ = ["AlreadyReplayed", "DeadLetterNotFound", "DeadLetters", "Filter"]

log = get_logger("backroom.dead_letters")
# A replay is an operator's "try again": an intent its failure closed is opened again in the same
# transaction, or its actor would find it settled and do nothing (an email that failed for good).
REOPEN: dict[str, Callable[[Session, int], bool]] = {
    "email.send": outbox.reopen_failed,
    "alerts.slack": alerts.reopen_slack_failed,
}
# A purge is an operator's "drop it": the intent still in its first state is closed in the same
# transaction, or the reconciler would start a new chain for it once the dead letter is gone.
CLOSE: dict[str, Callable[[Session, int, str], bool]] = {
    "webhooks.process": webhooks.close_received,
    "email.send": outbox.close_pending,
}


class DeadLetterNotFound(NotFound):
    slug, title = "dead-letter-not-found", "Dead letter not found"

    def __init__(self, dead_letter_id: int) -> None:
        super().__init__(f"No dead letter {dead_letter_id}.")
        self.dead_letter_id = dead_letter_id


class AlreadyReplayed(Conflict):
    """The entry was replayed before; replaying it again needs `force`."""

    slug, title = "already-replayed", "Already replayed"

    def __init__(self, dead_letter_id: int) -> None:
        super().__init__("This entry was replayed before; send force: true to replay it again.")
        self.dead_letter_id = dead_letter_id


def _existing(session: Session, dead_letter_id: int, *, lock: bool = False) -> dict[str, Any]:
    entry = q.get(session, dead_letter_id, lock=lock)
    if entry is None:
        raise DeadLetterNotFound(dead_letter_id)
    return entry


@dataclass(frozen=True)
class DeadLetters:
    units: UnitsOfWork

    def page(self, where: Filter, *, limit: int = 50, before: int | None = None) -> dict[str, Any]:
        with self.units.begin() as uow:
            items = q.page(uow.session, where, limit=limit, before=before)
        return {"items": items, "next_before": items[-1]["id"] if len(items) == limit else None}

    def groups(self, where: Filter) -> list[dict[str, Any]]:
        with self.units.begin() as uow:
            return q.groups(uow.session, where)

    def show(self, dead_letter_id: int) -> dict[str, Any]:
        with self.units.begin() as uow:
            entry = _existing(uow.session, dead_letter_id)
            entry["history"] = q.history(uow.session, dead_letter_id)
        return entry

    def replay(self, dead_letter_id: int, *, by: str, reason: str | None = None, force: bool = False) -> str:
        """Re-enqueue the original message with a fresh retry budget: the new message id.

        The entry is locked and marked replayed (with an audit row) in one transaction, so two
        operators pressing the button at once replay it once; the message is sent after commit.
        """
        message_id = str(uuid.uuid4())  # recorded in the audit row before the message leaves
        with self.units.begin() as uow:
            entry = _existing(uow.session, dead_letter_id, lock=True)
            if not may_replay(entry["state"], force):
                raise AlreadyReplayed(dead_letter_id)
            q.mark_replayed(uow.session, dead_letter_id)
            reopen, row_id = REOPEN.get(entry["actor"]), _intent_row_id(entry["args"])
            if reopen is not None and row_id is not None:
                reopen(uow.session, row_id)
            q.audit(
                uow.session,
                dead_letter_id=dead_letter_id,
                message_id=entry["message_id"],
                action="replay",
                by=by,
                reason=reason,
                forced=force and entry["state"] != "dead",
                new_message_id=message_id,
            )
            message = Outgoing(
                entry["actor"],
                entry["queue"],
                tuple(entry["args"]),
                kwargs=entry["kwargs"],
                options=replay_options(entry["options"], dead_letter_id),
                message_id=message_id,
            )
            unsent = partial(self._unmark_replayed, dead_letter_id, entry["state"], message_id)
            uow.send_message_after_commit(message, if_unsent=unsent)
        log.info("dead_letter.replayed", dead_letter_id=dead_letter_id, new_message_id=message_id, by=by)
        return message_id

    def _unmark_replayed(self, dead_letter_id: int, state: str, message_id: str, error: Exception) -> None:
        """Not sent: undo the bookkeeping so the entry can be replayed again without force."""
        with self.units.begin() as uow:
            q.unmark_replayed(uow.session, dead_letter_id, state, message_id)
        raise error

    def purge(self, dead_letter_id: int, *, by: str, reason: str | None = None) -> None:
        with self.units.begin() as uow:
            entry = _existing(uow.session, dead_letter_id, lock=True)
            q.audit(
                uow.session,
                dead_letter_id=dead_letter_id,
                message_id=entry["message_id"],
                action="purge",
                by=by,
                reason=reason,
            )
            close, row_id = CLOSE.get(entry["actor"]), _intent_row_id(entry["args"])
            # A replayed entry's new message may still be running: its intent is left alone.
            if close is not None and entry["state"] == "dead" and row_id is not None:
                close(uow.session, row_id, f"dead letter {dead_letter_id} purged by {by}")
            q.delete(uow.session, dead_letter_id)


def _intent_row_id(args: list[Any]) -> int | None:
    """The row id an intent actor's message names (`email.send(42)`), or None when the message's
    arguments are not one id (a malformed message): it is replayed or purged as it is, and its
    failure, if any, is the job's, never a 500 of the whole replay."""
    if len(args) != 1 or isinstance(args[0], bool):
        return None
    try:
        return int(args[0])
    except (TypeError, ValueError):
        return None
