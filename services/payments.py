"""What a verified payment event does, in one transaction: the webhooks family's use case.

`Payments.apply_webhook_event` applies one stored event exactly once and sends, after commit,
the emails it decided. A successful payment is never dropped: it becomes a paid order, an order
that needs attention (underpaid, wrong currency, or its stock went to others), or an unmatched
payment (no checkout, an unknown one, or a checkout another payment already paid). The last two
alert an operator and are listed by `PaymentIssues` (/v1/admin/payments, the CLI, /admin).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core.catalog import EMAIL_ACTOR
from core.logging import get_logger
from core.payments import PayloadError, ProviderEvent, parse_event
from core.rules import orders as rules
from core.settings import Settings
from db.queries import orders as q
from db.queries import outbox, payments, webhooks
from db.queries.payments import AttentionState, payments_needing_attention
from db.unit_of_work import UnitsOfWork
from services.payment_outcomes import Outcome, create_order, keep_unmatched, release_failed
from services.refunds import record_refund
from services.unsent import mark_unsent_if_unsent

log = get_logger("backroom.services.payments")


@dataclass(frozen=True)
class Payments:
    units: UnitsOfWork
    settings: Settings
    now: Callable[[], datetime]

    def apply_webhook_event(self, event_row_id: int) -> list[int]:
        """Apply one stored event in one transaction, then send the emails it decided (their
        outbox ids are returned). Idempotent: the event row is locked and only a `received`
        event is applied, so a redelivered message (or the reconciler's) does nothing."""
        with self.units.begin() as uow:
            emails = _apply_event(uow.session, event_row_id, self.now(), self.settings)
            for outbox_id in emails:  # after commit: the rows exist for the email worker
                # The event is settled, so a retry would not send them: the reconciler will.
                unsent = mark_unsent_if_unsent(self.units, outbox.STUCK, outbox_id)
                uow.send_after_commit(*EMAIL_ACTOR, outbox_id, if_unsent=unsent)
        log.info("webhooks.processed", event_row_id=event_row_id, emails=len(emails))
        return emails


@dataclass(frozen=True)
class PaymentIssues:
    """The payments a person must look at: the same rows for the API, the CLI and /admin."""

    units: UnitsOfWork

    def payments_needing_attention(
        self, state: AttentionState | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Newest first, as JSON-ready dicts (`paid` and `owed` are {amount, currency}); `state`
        None lists orders needing attention and unmatched payments both."""
        with self.units.begin() as uow:
            issues = payments_needing_attention(uow.session, state, limit=limit, offset=offset)
        return [issue.as_json() for issue in issues]


def _apply_event(session: Session, row_id: int, now: datetime, settings: Settings) -> list[int]:
    """Apply one stored event exactly once; a settled event is left alone."""
    row = webhooks.lock_event(session, row_id)
    if row is None or row.state != "received":
        return []
    try:
        event = parse_event(row.provider, row.payload, row.headers)
    except PayloadError as error:
        outcome = Outcome("ignored", f"invalid payload: {error}")
    else:
        outcome = _apply(session, row_id, event, now, settings)
    webhooks.settle_event(
        session, row_id, state=outcome.state, note=outcome.note, order_id=outcome.order_id, now=now
    )
    return outcome.emails


def _apply(session: Session, row_id: int, event: ProviderEvent, now: datetime, settings: Settings) -> Outcome:
    if event.kind == "other":
        return Outcome("ignored", f"{event.raw_type} is stored, not acted on")
    if event.payment_id is not None and event.kind in ("payment_succeeded", "refunded"):
        # Taken before any other row lock, in both paths, so the two never deadlock.
        payments.lock_payment(session, event.provider, event.payment_id)
    if event.kind == "refunded":
        return Outcome(*record_refund(session, event))
    if event.checkout_id is None:
        if event.kind == "payment_failed":
            return Outcome("ignored", "the failed payment names no checkout_id")
        return keep_unmatched(session, row_id, event, settings, "the payment names no checkout_id")
    checkout = q.lock_checkout(session, event.checkout_id)
    if checkout is None:
        if event.kind == "payment_failed":
            return Outcome("ignored", f"unknown checkout {event.checkout_id!r}")
        return keep_unmatched(session, row_id, event, settings, f"no checkout {event.checkout_id!r}")
    existing = q.find_order(session, checkout_id=event.checkout_id)
    if event.kind == "payment_failed":
        return release_failed(session, event, checkout, existing, now)
    action = rules.on_payment_succeeded(
        existing.payment_id if existing else None, existing is not None, event.payment_id
    )
    if action == "same_payment":
        assert existing is not None
        return Outcome("ignored", "this payment already made the checkout's order", existing.order_id)
    if action == "another_payment":
        assert existing is not None
        reason = (
            f"checkout {event.checkout_id!r} was already paid by {existing.payment_id} "
            f"(order {existing.order_id}): refund this payment"
        )
        return keep_unmatched(session, row_id, event, settings, reason)
    return create_order(session, row_id, event, checkout, now, settings)
