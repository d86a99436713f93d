"""What operators do to a recurring job: pause it, resume it, run it now. Persisted in PostgreSQL,
so a pause holds for every scheduler at once, and audited with the operator and the reason."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.catalog import JOBS
from core.errors import Unavailable
from core.messages import Outgoing
from core.rules.schedules import ScheduledJob
from db.queries import schedule_runs as runs
from db.queries import schedule_state as state
from db.unit_of_work import UnitsOfWork
from services.schedule_watch import find


@dataclass(frozen=True)
class ScheduleControls:
    units: UnitsOfWork
    now: Callable[[], datetime]
    table: Sequence[ScheduledJob]

    def pause(self, job: str, *, by: str, reason: str | None = None) -> None:
        """No scheduler fires it until it is resumed; pausing a paused job changes nothing."""
        find(self.table, job)
        now = self.now()
        with self.units.begin() as uow:
            state.ensure(uow.session, [job], now)
            row = state.lock(uow.session, job)
            if row is not None and row["paused"]:
                return
            state.set_paused(uow.session, job, by=by, reason=reason, now=now)
            state.audit(uow.session, job=job, action="pause", by=by, reason=reason)

    def resume(self, job: str, *, by: str, reason: str | None = None) -> None:
        """Fires again from the next tick; slots missed while paused follow its misfire policy."""
        find(self.table, job)
        now = self.now()
        with self.units.begin() as uow:
            state.ensure(uow.session, [job], now)
            row = state.lock(uow.session, job)
            if row is None or not row["paused"]:
                return
            state.set_resumed(uow.session, job, now)
            state.audit(uow.session, job=job, action="resume", by=by, reason=reason)

    def run_now(self, job: str, *, by: str, reason: str | None = None) -> str:
        """Enqueue the job now, paused or not: a run of its own (`manual:<by>`), outside the
        trigger's slots, whose outcome is recorded like any other. Returns the message id."""
        find(self.table, job)
        now = self.now()
        with self.units.begin() as uow:
            run_id = runs.claim_run(uow.session, job, now, f"{runs.MANUAL}{by}"[:128], now)
            state.audit(uow.session, job=job, action="run", by=by, reason=reason)
        assert run_id is not None  # a manual run's slot is its own instant
        definition = JOBS[job]
        try:
            message_id = self.units.send(
                Outgoing(definition.actor_name, definition.queue, options={"schedule_run_id": run_id})
            )
        except Exception as error:
            # Not left `not_sent` for a resend: the operator was told it failed and may run it again.
            with self.units.begin() as uow:
                runs.mark_finished(
                    uow.session, run_id, state="failed", now=now, dead_letter_id=None, error="not sent"
                )
            raise Unavailable(f"Could not enqueue {job}: the broker is unreachable; nothing ran.") from error
        with self.units.begin() as uow:
            runs.mark_sent(uow.session, run_id, message_id)
        return message_id
