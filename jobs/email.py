"""Email job family (queue `email`): deliver outbox rows through Resend."""

from __future__ import annotations

import dramatiq

from core.clock import utcnow
from core.email.client import EmailRejected, send_email
from core.email.render import render
from core.errors import PermanentError
from core.logging import get_logger
from db.queries import outbox
from worker.database import database

log = get_logger("backroom.jobs.email")


@dramatiq.actor(
    actor_name="email.send", queue_name="email", max_retries=10, min_backoff=2_000, max_backoff=15 * 60_000
)
def send(outbox_id: int) -> None:
    """Send one outbox email with its idempotency key; a sent row is never sent again.

    No row lock is held during the HTTP call: if two deliveries race, Resend's
    Idempotency-Key makes them one email. 429, 5xx and timeouts retry; so do 401/403 (our key
    is wrong or rotated: a configuration fault, which the client logs as such, never the key);
    any other 4xx marks the row failed and fails the message for good. Replaying its dead letter
    makes the row pending again first (core/dead_letters.py), so the replay sends it.
    """
    db = database(send.broker)
    with db.transaction() as session:
        row = outbox.get_email(session, outbox_id)
    if row is None:
        raise PermanentError(f"no outbox row {outbox_id}")
    if row.state != "pending":
        log.info("email.skip", outbox_id=outbox_id, state=row.state)
        return
    try:
        message = render(row.template, dict(row.context))
        sent_id = send_email(
            db.settings,
            to=row.to_address,
            subject=message.subject,
            html=message.html,
            text=message.text,
            idempotency_key=row.idempotency_key,
        )
    except (EmailRejected, PermanentError) as error:  # a 4xx or a template that cannot render
        with db.transaction() as session:
            outbox.record_attempt(
                session, outbox_id, sent_id=None, error=str(error), failed=True, now=utcnow()
            )
        raise
    except Exception as error:
        with db.transaction() as session:
            outbox.record_attempt(
                session, outbox_id, sent_id=None, error=str(error), failed=False, now=utcnow()
            )
        raise
    with db.transaction() as session:
        outbox.record_attempt(session, outbox_id, sent_id=sent_id, error=None, failed=False, now=utcnow())
