"""When an intent's first message cannot be sent after commit: tell the reconciler at once.

The unit of work sends what a service decided once its transaction has committed. If the
broker is down then, the intent is still durable in PostgreSQL and the reconciler sends it
again; left at that, it would wait a whole retry span, since a message for the intent might
still be alive. The `if_unsent` hook made here marks the intent unsent
(`db.queries.stuck_intents.mark_unsent`), so the reconciler sends it after its grace alone.
"""

from __future__ import annotations

from core.logging import get_logger
from db.queries.stuck_intents import Intent, mark_unsent
from db.unit_of_work import IfUnsent, UnitsOfWork

log = get_logger("backroom.services.unsent")


def mark_unsent_if_unsent(units: UnitsOfWork, intent: Intent, row_id: int) -> IfUnsent:
    """The `if_unsent` hook of the message that carries intent row `row_id`."""

    def hook(error: Exception) -> None:
        log.warning("intent.send_failed", intent=intent.table, row_id=row_id, error=type(error).__name__)
        try:
            with units.begin() as uow:
                mark_unsent(uow.session, intent, [row_id])
        except Exception as failure:  # best effort: the reconciler still finds it, later
            log.warning(
                "intent.mark_unsent_failed", intent=intent.table, row_id=row_id, error=type(failure).__name__
            )

    return hook
