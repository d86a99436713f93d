"""Dead-letter operations: the one service the CLI, the API and the operator page all call."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dramatiq
from sqlalchemy import Engine
from sqlmodel import Session

from core.logging import get_logger
from core.rules.dead_letters import may_replay, replay_options
from db.engine import transaction
from db.queries import dead_letters as q
from db.queries import outbox, webhooks
from db.queries.dead_letters import Filter

log = get_logger("backroom.dead_letters")
BATCH = 100
# A replay is an operator's "try again": an intent its failure closed is opened again in the same
# transaction, or its actor would find it settled and do nothing (an email that failed for good).
REOPEN: dict[str, Callable[[Session, int], bool]] = {"email.send": outbox.reopen_failed}
# A purge is an operator's "drop it": the intent still in its first state is closed in the same
# transaction, or the reconciler would start a new chain for it once the dead letter is gone.
CLOSE: dict[str, Callable[[Session, int, str], bool]] = {
    "webhooks.process": webhooks.close_received,
    "email.send": outbox.close_pending,
}


class NotFound(Exception):
    pass


class AlreadyReplayed(Exception):
    """The entry was replayed before; replaying it again needs `force`."""


def _existing(session: Session, dead_letter_id: int, *, lock: bool = False) -> dict[str, Any]:
    entry = q.get(session, dead_letter_id, lock=lock)
    if entry is None:
        raise NotFound(dead_letter_id)
    return entry


@dataclass
class DeadLetters:
    engine: Engine
    broker: dramatiq.Broker

    def page(self, where: Filter, *, limit: int = 50, before: int | None = None) -> dict[str, Any]:
        with transaction(self.engine) as session:
            items = q.page(session, where, limit=limit, before=before)
        return {"items": items, "next_before": items[-1]["id"] if len(items) == limit else None}

    def groups(self, where: Filter) -> list[dict[str, Any]]:
        with transaction(self.engine) as session:
            return q.groups(session, where)

    def show(self, dead_letter_id: int) -> dict[str, Any]:
        with transaction(self.engine) as session:
            entry = _existing(session, dead_letter_id)
            entry["history"] = q.history(session, dead_letter_id)
        return entry

    def replay(self, dead_letter_id: int, *, by: str, reason: str | None = None, force: bool = False) -> str:
        """Re-enqueue the original message with a fresh retry budget: the new message id.

        The entry is locked and marked replayed (with an audit row) in one transaction, so two
        operators pressing the button at once replay it once; the message is sent after commit.
        """
        with transaction(self.engine) as session:
            entry = _existing(session, dead_letter_id, lock=True)
            if not may_replay(entry["state"], force):
                raise AlreadyReplayed(dead_letter_id)
            message: dramatiq.Message[Any] = dramatiq.Message(
                queue_name=entry["queue"],
                actor_name=entry["actor"],
                args=tuple(entry["args"]),
                kwargs=entry["kwargs"],
                options=replay_options(entry["options"], dead_letter_id),
            )
            q.mark_replayed(session, dead_letter_id)
            reopen = REOPEN.get(entry["actor"])
            if reopen is not None and len(entry["args"]) == 1:
                reopen(session, int(entry["args"][0]))
            q.audit(
                session,
                dead_letter_id=dead_letter_id,
                message_id=entry["message_id"],
                action="replay",
                by=by,
                reason=reason,
                forced=force and entry["state"] != "dead",
                new_message_id=message.message_id,
            )
        try:
            self.broker.enqueue(message)
        except Exception:
            # Not sent: undo the bookkeeping so the entry can be replayed again without force.
            with transaction(self.engine) as session:
                q.unmark_replayed(session, dead_letter_id, entry["state"], message.message_id)
            raise
        log.info(
            "dead_letter.replayed", dead_letter_id=dead_letter_id, new_message_id=message.message_id, by=by
        )
        return message.message_id

    def replay_many(
        self,
        where: Filter,
        *,
        by: str,
        reason: str | None = None,
        force: bool = False,
        dry_run: bool = False,
        limit: int = 1000,
        per_second: float = 50.0,
    ) -> dict[str, Any]:
        """Dry run: how many match, and a sample. Otherwise replay in batches at a bounded rate."""
        if not force and where.state is None:
            where = Filter(**{**where.__dict__, "state": "dead"})
        if dry_run:
            return self._preview(where, limit)
        replayed: list[str] = []
        skipped, after = 0, 0
        while len(replayed) + skipped < limit:
            started = time.monotonic()
            with transaction(self.engine) as session:
                batch = q.ids(session, where, min(BATCH, limit - len(replayed) - skipped), after=after)
            if not batch:
                break
            for dead_letter_id in batch:
                try:
                    replayed.append(self.replay(dead_letter_id, by=by, reason=reason, force=force))
                except (AlreadyReplayed, NotFound):
                    skipped += 1
            after = batch[-1]
            # Bounded rate: a flood of replays must not swamp the queues it feeds.
            time.sleep(max(0.0, len(batch) / per_second - (time.monotonic() - started)))
        return {"replayed": len(replayed), "skipped": skipped, "message_ids": replayed}

    def purge(self, dead_letter_id: int, *, by: str, reason: str | None = None) -> None:
        with transaction(self.engine) as session:
            entry = _existing(session, dead_letter_id, lock=True)
            q.audit(
                session,
                dead_letter_id=dead_letter_id,
                message_id=entry["message_id"],
                action="purge",
                by=by,
                reason=reason,
            )
            close = CLOSE.get(entry["actor"])
            # A replayed entry's new message may still be running: its intent is left alone.
            if close is not None and entry["state"] == "dead" and len(entry["args"]) == 1:
                close(session, int(entry["args"][0]), f"dead letter {dead_letter_id} purged by {by}")
            q.delete(session, dead_letter_id)

    def purge_many(
        self, where: Filter, *, by: str, reason: str | None = None, dry_run: bool = False, limit: int = 10_000
    ) -> dict[str, Any]:
        if dry_run:
            return self._preview(where, limit)
        purged = 0
        while purged < limit:
            with transaction(self.engine) as session:
                batch = q.ids(session, where, min(BATCH, limit - purged))
            if not batch:
                break
            for dead_letter_id in batch:
                try:
                    self.purge(dead_letter_id, by=by, reason=reason)
                    purged += 1
                except NotFound:
                    pass
        return {"purged": purged}

    def _preview(self, where: Filter, limit: int) -> dict[str, Any]:
        with transaction(self.engine) as session:
            matched = q.count(session, where)
            sample = q.page(session, where, limit=5, before=None)
        return {"dry_run": True, "matched": matched, "would_affect": min(matched, limit), "sample": sample}
