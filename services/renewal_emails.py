"""The emails a renewal decides: receipt, card declined (with the retry time), lapsed, reminder.

Each is an outbox row in the caller's transaction, keyed so that a repeat of the same decision
queues nothing (`email_outbox.idempotency_key` is unique), and sent after commit like every email.
Contexts are JSON: amounts in major units as strings, dates as words a customer reads (UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.catalog import EMAIL_ACTOR
from core.rules.money import major_units
from db.queries import outbox
from db.unit_of_work import UnitOfWork, UnitsOfWork
from services.unsent import mark_unsent_if_unsent

# The gateway's decline codes, in the customer's words; anything else is the generic reason.
DECLINE_REASONS = {
    "authentication_required": (
        "your bank asked you to confirm the payment, which cannot be done while you are away"
    ),
    "insufficient_funds": "the card did not have enough funds",
    "expired_card": "the card has expired",
    "incorrect_cvc": "the card's security code was not accepted",
    "lost_card": "the card was reported lost",
    "stolen_card": "the card was reported stolen",
    "card_declined": "your bank declined the payment",
}
GENERIC_REASON = "the payment did not go through"


def customer_reason(code: str | None) -> str:
    return DECLINE_REASONS.get(code or "", GENERIC_REASON)


def day(moment: datetime) -> str:
    """`28 February 2027` (UTC): the date a customer reads."""
    return moment.astimezone(UTC).strftime("%-d %B %Y")


def when(moment: datetime) -> str:
    """`28 February 2027, 09:00 UTC`."""
    return moment.astimezone(UTC).strftime("%-d %B %Y, %H:%M UTC")


def base_context(sub: Any, amount: int, currency: str) -> dict[str, Any]:
    return {
        "subscription_id": sub.subscription_id,
        "plan": sub.plan,
        "amount": str(major_units(amount, currency)),
        "currency": currency,
    }


def queue(
    uow: UnitOfWork, units: UnitsOfWork, *, key: str, template: str, to: str, context: dict[str, Any]
) -> int | None:
    """Queue one email and send it after commit; None when that key was queued before."""
    outbox_id = outbox.add_email(uow.session, key=key, template=template, to=to, context=context)
    if outbox_id is not None:
        unsent = mark_unsent_if_unsent(units, outbox.STUCK, outbox_id)
        uow.send_after_commit(*EMAIL_ACTOR, outbox_id, if_unsent=unsent)
    return outbox_id
