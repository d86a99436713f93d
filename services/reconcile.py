"""Reconciling intents stuck in their first state: send them again once no message for them can
still be alive.

Redis may lose a message (a restart without persistence, an eviction, a send that failed after
commit); Postgres does not lose the intent. Re-sending is safe because every handler is
idempotent, but it must stay bounded: an intent is sent again only when its last chain is over
(docs/decisions.md, "Reconciler bound").

Recurring jobs too: a run claimed but never sent (the broker was down) is sent with its slot, and
overdue jobs are noticed (one alert per episode), so both work when no scheduler runs at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from core.catalog import EMAIL_ACTOR, WEBHOOK_ACTOR
from core.rules.retry_span import resend_after
from core.rules.schedules import ScheduledJob
from core.settings import Settings
from db.queries import outbox, webhooks
from db.queries import stuck_intents as stuck
from db.unit_of_work import UnitsOfWork
from services.schedule_watch import ScheduleWatch
from services.schedules import Schedules

BATCH = 500


@dataclass(frozen=True)
class Reconciler:
    units: UnitsOfWork
    now: Callable[[], datetime]
    grace: timedelta  # RECONCILE_AFTER_SECONDS: a message may wait that long in a busy queue
    retry_spans: Mapping[str, timedelta]  # per actor name: how long one chain can stay alive
    # Moves dead letters the ledger could not record (Postgres was down) from the broker (Redis's
    # dead-letter sets, RabbitMQ's XQ queues) into it.
    sweep_broker_dead_letters: Callable[[], int]
    # The recurring jobs (core.schedule_table) to repair and watch; none: intents only.
    settings: Settings | None = None
    schedule_table: Sequence[ScheduledJob] = ()

    def reconcile_stuck_intents(self) -> dict[str, int]:
        """Webhook events still `received` and outbox rows still `pending` whose every message is
        over (the actor's whole retry span since the last send, plus the grace, and no dead letter
        waiting for a replay) are sent again: how many of each, and dead letters recovered. Then
        the recurring jobs: runs claimed but never sent are sent, and overdue jobs alerted."""
        # First, so the intents of dead letters Postgres could not record are not taken for
        # lost messages below.
        recovered = self.sweep_broker_dead_letters()
        events = self._resend(webhooks.STUCK, *WEBHOOK_ACTOR)
        emails = self._resend(outbox.STUCK, *EMAIL_ACTOR)
        runs = self.reconcile_schedules()
        return {
            "webhook_events": events,
            "emails": emails,
            "dead_letters_recovered": recovered,
            "schedule_runs": runs,
        }

    def reconcile_schedules(self) -> int:
        """Send the runs claimed while the broker was down (once, with their slot), then check
        which jobs are overdue (the watch sends one alert per episode): runs sent."""
        if self.settings is None or not self.schedule_table:
            return 0
        table = self.schedule_table
        resent = Schedules(self.units, self.settings, self.now, table, "reconciler").resend_unsent()
        ScheduleWatch(self.units, self.settings, self.now, table).check_overdue()
        return resent

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
