"""Recurring jobs: fire each slot once, resend a claimed slot whose message was lost, pause and
resume for every scheduler at once, run by hand, and say when a job is overdue.

The scheduler process calls `tick` every few seconds; the reconciler calls `resend_unsent` and
`ScheduleWatch.check_overdue` too, so a lost send is repaired and an overdue job is noticed
even when no scheduler runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.catalog import JOBS
from core.logging import get_logger
from core.messages import Outgoing
from core.rules.schedules import ScheduledJob, plan_tick
from core.settings import Settings
from db.queries import schedule_runs as runs
from db.queries import schedule_state as state
from db.unit_of_work import UnitsOfWork
from services.schedule_watch import ScheduleWatch

log = get_logger("backroom.schedules")
# A claim younger than this may still be mid-send by the scheduler that made it.
RESEND_AFTER = timedelta(seconds=15)
SKIPPED_RECORDED_PER_TICK = 50


@dataclass(frozen=True)
class Schedules:
    units: UnitsOfWork
    settings: Settings
    now: Callable[[], datetime]
    table: Sequence[ScheduledJob]
    identity: str = "scheduler"

    def tick(self) -> list[str]:
        """Fire every due slot of every job not paused; resend lost sends; check overdue."""
        now = self.now()
        with self.units.begin() as uow:
            state.ensure(uow.session, [s.job for s in self.table], now)
            paused = {job for job, row in state.states(uow.session).items() if row["paused"]}
        sent = []
        for scheduled in self.table:
            if scheduled.job not in paused:
                sent += self._fire_due(scheduled, now)
        self.resend_unsent()
        ScheduleWatch(self.units, self.settings, self.now, self.table).check_overdue()
        return sent

    def _fire_due(self, scheduled: ScheduledJob, now: datetime) -> list[str]:
        with self.units.begin() as uow:
            last = runs.last_slot(uow.session, scheduled.job)
            plan = plan_tick(
                scheduled.trigger,
                last_slot=last,
                now=now,
                policy=scheduled.misfire,
                catch_up_max=scheduled.catch_up_max,
            )
            for slot in plan.skipped[-SKIPPED_RECORDED_PER_TICK:]:
                runs.claim_run(uow.session, scheduled.job, slot, self.identity, now, state="skipped")
        if plan.skipped:
            log.warning("schedule.slots_skipped", job=scheduled.job, count=len(plan.skipped))
        sent = []
        for slot in plan.fire:
            with self.units.begin() as uow:
                run_id = runs.claim_run(uow.session, scheduled.job, slot, self.identity, now)
            if run_id is None:
                log.info("schedule.slot_taken", job=scheduled.job, slot=slot.isoformat())
                continue
            message_id = self._send(scheduled.job, run_id)
            if message_id:
                sent.append(message_id)
                log.info("schedule.fired", job=scheduled.job, slot=slot.isoformat(), message_id=message_id)
        return sent

    def _send(self, job: str, run_id: int) -> str | None:
        """Send the run's message; on failure the run stays `not_sent` for the next resend."""
        definition = JOBS[job]
        try:
            message_id = self.units.send(
                Outgoing(definition.actor_name, definition.queue, options={"schedule_run_id": run_id})
            )
        except Exception as error:  # the broker is down: the claim stays, a later tick resends it
            log.warning("schedule.send_failed", job=job, run_id=run_id, error=type(error).__name__)
            return None
        with self.units.begin() as uow:
            runs.mark_sent(uow.session, run_id, message_id)
        return message_id

    def resend_unsent(self) -> int:
        """Send once more every claimed run whose message was never sent, with its same slot."""
        resent = 0
        with self.units.begin() as uow:
            paused = {job for job, row in state.states(uow.session).items() if row["paused"]}
        for scheduled in self.table:
            if scheduled.job in paused:  # paused since its claim: it fires again when resumed
                continue
            with self.units.begin() as uow:
                # The row lock holds until the send is recorded: one resender per run.
                for run_id in runs.claim_unsent(uow.session, scheduled.job, self.now() - RESEND_AFTER):
                    definition = JOBS[scheduled.job]
                    outgoing = Outgoing(
                        definition.actor_name, definition.queue, options={"schedule_run_id": run_id}
                    )
                    try:
                        message_id = self.units.send(outgoing)
                    except Exception as error:
                        log.warning(
                            "schedule.resend_failed",
                            job=scheduled.job,
                            run_id=run_id,
                            error=type(error).__name__,
                        )
                        break
                    runs.mark_sent(uow.session, run_id, message_id)
                    resent += 1
        return resent
