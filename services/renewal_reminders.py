"""Renewal reminders (the daily `renewal-reminders` job): one email a period, RENEWAL_REMINDER_DAYS
before an active subscription that will renew reaches its period's end.

Once a period is the outbox's unique key `reminder/{subscription_id}/{period_end}`, not a check in
Python: a second run, or two at once, queue nothing new; a new period is a new key. Each row the
query selects is checked again with `rules.reminder_due`. Bounded batches, each its own transaction,
each email sent after its batch commits.

A reminder is checked again right before it goes (services/email.py, `reminder_skip_reason`): a
subscription cancelled, no longer active or whose period moved since it was queued gets none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core.logging import get_logger
from core.rules import subscriptions as rules
from core.settings import Settings
from db.queries import renewal_reminders as q
from db.unit_of_work import UnitsOfWork
from services import renewal_emails as emails

log = get_logger("backroom.services.renewal_reminders")

TEMPLATE = "renewal_reminder"
BATCH_SIZE = 500
MAX_BATCHES_PER_RUN = 100


@dataclass(frozen=True)
class RenewalReminders:
    units: UnitsOfWork
    settings: Settings
    now: Callable[[], datetime]
    batch_size: int = BATCH_SIZE

    def send_due(self) -> int:
        """Queue the reminder of every subscription inside its window that has none for this
        period yet: how many were queued."""
        days = self.settings.renewal_reminder_days
        total, after = 0, ""
        for _ in range(MAX_BATCHES_PER_RUN):
            with self.units.begin() as uow:
                now = self.now()
                rows = q.in_window(uow.session, now, days, after, self.batch_size)
                for sub in rows:
                    due = rules.reminder_due(
                        state=sub.state,
                        cancel_at_period_end=sub.cancel_at_period_end,
                        current_period_end=sub.current_period_end,
                        days_before=days,
                        now=now,
                    )
                    if not due:
                        continue
                    queued = emails.queue(
                        uow,
                        self.units,
                        key=rules.reminder_key(sub.subscription_id, sub.current_period_end),
                        template=TEMPLATE,
                        to=sub.email,
                        context=emails.base_context(sub, sub.amount, sub.currency)
                        | {
                            "renews_on": emails.day(sub.current_period_end),
                            "period_end": rules.iso_utc(sub.current_period_end),
                        },
                    )
                    total += queued is not None
            if len(rows) < self.batch_size:
                break
            after = rows[-1].subscription_id
        log.info("renewals.reminders_queued", emails=total)
        return total


def reminder_skip_reason(session: Session, context: dict[str, Any]) -> str | None:
    """Why a queued reminder must not go now (checked right before sending), or None: the
    subscription was cancelled, is no longer active, or its period end is not the announced one."""
    sub = q.renewal_terms(session, str(context.get("subscription_id")))
    if sub is None:
        return "the subscription no longer exists"
    if sub.state != "active":
        return f"the subscription is {sub.state}"
    if sub.cancel_at_period_end:
        return "the subscription will not renew (cancelled at its period's end)"
    if rules.iso_utc(sub.current_period_end) != context.get("period_end"):
        return "the subscription's period end changed since this reminder was queued"
    return None
