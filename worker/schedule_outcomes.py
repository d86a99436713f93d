"""Records on a schedule run's row what became of its job: started, succeeded, or failed (with
its dead letter). Messages of recurring jobs carry `schedule_run_id` in their options."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy

from core.clock import utcnow
from core.logging import get_logger
from db.queries import schedule_runs as runs
from worker.database import Database

log = get_logger("backroom.worker.schedule_outcomes")


class ScheduleOutcomes(dramatiq.Middleware):
    """Placed before the FailureLedger in the middleware list, so its after-hook runs after the
    ledger's: a failed run can name the dead letter the ledger just wrote."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @staticmethod
    def _run_id(message: MessageProxy) -> int | None:
        value = message.options.get("schedule_run_id")
        return int(value) if isinstance(value, int) else None

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        run_id = self._run_id(message)
        if run_id is not None:
            self._record(lambda session: runs.mark_started(session, run_id, utcnow()), run_id)

    def after_process_message(
        self, broker: dramatiq.Broker, message: MessageProxy, *, result: Any = None, exception: Any = None
    ) -> None:
        run_id = self._run_id(message)
        if run_id is None:
            return
        if exception is None:
            outcome, error = "succeeded", None
        elif message.failed:  # out of retries, or permanent: the ledger holds it now
            outcome, error = "failed", type(exception).__name__
        else:
            return  # it will be retried: still running, as far as anyone watching can tell

        dead_letter_id = message.options.get("dead_letter_id")  # set by the ledger, just before us
        self._record(
            lambda session: runs.mark_finished(
                session, run_id, state=outcome, now=utcnow(), dead_letter_id=dead_letter_id, error=error
            ),
            run_id,
        )

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        run_id = self._run_id(message)
        if run_id is not None and message.failed:  # e.g. past its age limit
            self._record(
                lambda session: runs.mark_finished(
                    session,
                    run_id,
                    state="failed",
                    now=utcnow(),
                    dead_letter_id=message.options.get("dead_letter_id"),
                    error="skipped",
                ),
                run_id,
            )

    def _record(self, change: Any, run_id: int) -> None:
        try:
            with self.database.transaction() as session:
                change(session)
        except Exception as error:  # the job's own work matters more than its bookkeeping
            log.warning("schedule.outcome_not_recorded", run_id=run_id, error=type(error).__name__)
