"""Reconciling intents stuck in their first state: send them again once no message for them can
still be alive.

Redis may lose a message (a restart without persistence, an eviction, a send that failed after
commit); Postgres does not lose the intent. Re-sending is safe because every handler is
idempotent, but it must stay bounded: an intent is sent again only when its last chain is over
(docs/decisions.md, "Reconciler bound").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from core.catalog import EMAIL_ACTOR, WEBHOOK_ACTOR
from core.rules.retry_span import resend_after
from db.queries import outbox, webhooks
from db.queries import stuck_intents as stuck
from db.unit_of_work import UnitsOfWork

BATCH = 500


@dataclass(frozen=True)
class Reconciler:
    units: UnitsOfWork
    now: Callable[[], datetime]
    grace: timedelta  # RECONCILE_AFTER_SECONDS: a message may wait that long in a busy queue
    retry_spans: Mapping[str, timedelta]  # per actor name: how long one chain can stay alive
    # Moves dead letters the ledger could not record (Postgres was down) from Redis into it.
    sweep_redis_dead_letters: Callable[[], int]

    def reconcile_stuck_intents(self) -> dict[str, int]:
        """Webhook events still `received` and outbox rows still `pending` whose every message is
        over (the actor's whole retry span since the last send, plus the grace, and no dead letter
        waiting for a replay) are sent again: how many of each, and dead letters recovered."""
        # First, so the intents of dead letters Postgres could not record are not taken for
        # lost messages below.
        recovered = self.sweep_redis_dead_letters()
        events = self._resend(webhooks.STUCK, *WEBHOOK_ACTOR)
        emails = self._resend(outbox.STUCK, *EMAIL_ACTOR)
        return {"webhook_events": events, "emails": emails, "dead_letters_recovered": recovered}

    def _resend(self, intent: stuck.Intent, actor_name: str, queue: str) -> int:
        """Claim the due intents of one kind, then send them after commit; unsent claims are released."""
        with self.units.begin() as uow:
            ids = stuck.claim(
                uow.session,
                intent,
                actor=actor_name,
                now=self.now(),
                resend_after=resend_after(self.retry_spans[actor_name], self.grace),
                limit=BATCH,
                grace=self.grace,
            )
            for done, row_id in enumerate(ids):
                release = partial(self._release, intent, ids[done:])
                uow.send_after_commit(actor_name, queue, row_id, if_unsent=release)
        return len(ids)

    def _release(self, intent: stuck.Intent, ids: list[int], error: Exception) -> None:
        """This send and the ones after it did not happen: due again at the next tick."""
        with self.units.begin() as uow:
            stuck.release(uow.session, intent, ids)
        raise error
