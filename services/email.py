"""Delivering one outbox email through Resend (or the development log) with its idempotency key.

No row lock is held during the HTTP call: if two deliveries race, Resend's Idempotency-Key
makes them one email. A sent row is never sent again. 429, 5xx and timeouts raise for a retry;
so do 401/403 (`ProviderKeyRejected`: our key is wrong or rotated, a configuration fault the
client logs as such, never the key); any other 4xx, or a template that cannot render, marks
the row failed and raises a `PermanentError`, which fails the message for good. Replaying its
dead letter makes the row pending again first (services/dead_letters.py), so the replay sends it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from core.email.client import EmailRejected, send_email
from core.email.render import render
from core.errors import PermanentError
from core.logging import get_logger
from core.settings import Settings
from db.queries import outbox
from db.unit_of_work import UnitsOfWork

log = get_logger("backroom.services.email")


@dataclass(frozen=True)
class Emails:
    units: UnitsOfWork
    settings: Settings
    now: Callable[[], datetime]

    def send_outbox_email(self, outbox_id: int) -> None:
        """Send the outbox row once and record the attempt; a missing row is a `PermanentError`."""
        with self.units.begin() as uow:
            row = outbox.get_email(uow.session, outbox_id)
        if row is None:
            raise PermanentError(f"no outbox row {outbox_id}")
        if row.state != "pending":
            log.info("email.skip", outbox_id=outbox_id, state=row.state)
            return
        try:
            message = render(row.template, dict(row.context))
            sent_id = send_email(
                self.settings,
                to=row.to_address,
                subject=message.subject,
                html=message.html,
                text=message.text,
                idempotency_key=row.idempotency_key,
            )
        except (EmailRejected, PermanentError) as error:  # a 4xx or a template that cannot render
            self._record(outbox_id, sent_id=None, error=str(error), failed=True)
            raise
        except Exception as error:  # retried: 429, 5xx, a timeout, a rejected API key
            self._record(outbox_id, sent_id=None, error=str(error), failed=False)
            raise
        self._record(outbox_id, sent_id=sent_id, error=None, failed=False)

    def _record(self, outbox_id: int, *, sent_id: str | None, error: str | None, failed: bool) -> None:
        with self.units.begin() as uow:
            outbox.record_attempt(
                uow.session, outbox_id, sent_id=sent_id, error=error, failed=failed, now=self.now()
            )
