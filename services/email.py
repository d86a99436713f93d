"""Delivering one outbox email through Resend (or the development log) with its idempotency key.

No row lock is held during the HTTP call: if two deliveries race, Resend's Idempotency-Key
makes them one email. A sent row is never sent again. 429, 5xx and timeouts raise for a retry;
so do 401/403 (`ProviderKeyRejected`: our key is wrong or rotated, a configuration fault the
client logs as such, never the key); any other 4xx, or a template that cannot render, marks
the row failed and raises a `PermanentError`, which fails the message for good. Replaying its
dead letter makes the row pending again first (services/dead_letters.py), so the replay sends it.
An abandoned-cart reminder is checked against its cart right before it goes: a cart converted,
unsubscribed or changed since closes the row unsent (`failed`, with the reason as its last error);
so does a renewal reminder whose subscription was cancelled, stopped renewing or moved its period
end. Receipts and dunning emails always go (they say what already happened to the money).
An email whose context carries `unsubscribe_url` is sent with List-Unsubscribe and RFC 8058's
List-Unsubscribe-Post headers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core.email.client import EmailRejected, send_email
from core.email.render import render
from core.errors import PermanentError
from core.logging import get_logger
from core.settings import Settings
from db.queries import outbox
from db.unit_of_work import UnitsOfWork
from services.carts import TEMPLATE as CART_TEMPLATE
from services.carts import cart_email_skip_reason
from services.renewal_reminders import TEMPLATE as REMINDER_TEMPLATE
from services.renewal_reminders import reminder_skip_reason

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
            skip = self._skip_reason(uow.session, row)
            if skip is not None:
                outbox.close_pending(uow.session, outbox_id, f"not sent: {skip}")
        if row is None:
            raise PermanentError(f"no outbox row {outbox_id}")
        if row.state != "pending":
            log.info("email.skip", outbox_id=outbox_id, state=row.state)
            return
        if skip is not None:
            log.info("email.cancelled", outbox_id=outbox_id, template=row.template, reason=skip)
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
                headers=_list_unsubscribe(dict(row.context)),
            )
        except (EmailRejected, PermanentError) as error:  # a 4xx or a template that cannot render
            self._record(outbox_id, sent_id=None, error=str(error), failed=True)
            raise
        except Exception as error:  # retried: 429, 5xx, a timeout, a rejected API key
            self._record(outbox_id, sent_id=None, error=str(error), failed=False)
            raise
        self._record(outbox_id, sent_id=sent_id, error=None, failed=False)

    @staticmethod
    def _skip_reason(session: Session, row: Any) -> str | None:
        """Why a pending email must not go after all (checked in the send's own read), or None."""
        if row is None or row.state != "pending":
            return None
        if row.template == CART_TEMPLATE:
            return cart_email_skip_reason(session, dict(row.context))
        if row.template == REMINDER_TEMPLATE:
            return reminder_skip_reason(session, dict(row.context))
        return None

    def _record(self, outbox_id: int, *, sent_id: str | None, error: str | None, failed: bool) -> None:
        with self.units.begin() as uow:
            outbox.record_attempt(
                uow.session, outbox_id, sent_id=sent_id, error=error, failed=failed, now=self.now()
            )


def _list_unsubscribe(context: dict[str, Any]) -> dict[str, str] | None:
    """RFC 2369 / RFC 8058 one-click unsubscribe headers for an email that offers unsubscribing."""
    url = context.get("unsubscribe_url")
    if not isinstance(url, str) or not url:
        return None
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
