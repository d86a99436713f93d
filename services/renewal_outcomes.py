"""Tx B of a renewal: the gateway's answer recorded on the attempt, the charge and the subscription,
and the email it calls for, in one transaction (services/renewals.py takes the decisions up to it).

- Succeeded: the charge `succeeded`, the period advances, the dunning is over, a receipt.
- Declined: `rules.after_decline` from the charge's first failure and its count: past due until
  the next attempt (an email with the billing link and the retry time), or lapsed (an email).
- Declined, but the subscription has a new card since the attempt began: past due, due now
  (`NEW_CARD`: the renewal tries the new card at once), no failure email.
- Cancelled while the charge was in flight: a success still counts (the money moved: the period
  advances and the subscription ends at its new end); a decline ends it quietly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.billing.gateway import Declined, Succeeded
from core.logging import get_logger
from core.rules import subscriptions as rules
from core.settings import Settings
from db.queries import renewal_charges as charges
from db.queries import renewals as q
from db.unit_of_work import UnitOfWork, UnitsOfWork
from services import renewal_emails as emails
from services.renewal_attempts import Attempt

log = get_logger("backroom.services.renewal_outcomes")

NEW_CARD = "declined_new_card"


def record_outcome(
    uow: UnitOfWork, units: UnitsOfWork, settings: Settings, a: Attempt, outcome: Any, now: datetime
) -> str:
    session, row = uow.session, a.row
    sub = q.lock_subscription(session, a.subscription_id)
    assert sub is not None  # subscriptions are never deleted
    ending = sub.state == "cancelled" or sub.cancel_at_period_end
    period = rules.iso_utc(row.period_start)
    context = emails.base_context(sub, row.amount, row.currency)
    if isinstance(outcome, Succeeded):
        if not charges.finish_attempt(
            session,
            row.id,
            state="succeeded",
            reference=outcome.reference,
            code=None,
            message=None,
            now=now,
        ):
            return "recorded_already"
        charges.charge_succeeded(session, row.charge_id, outcome.reference)
        q.update_subscription(
            session,
            a.subscription_id,
            now,
            state="active",
            cancel_at_period_end=ending,
            dunning_step=0,
            next_attempt_at=None,
            current_period_end=max(sub.current_period_end, row.period_end),
        )
        emails.queue(
            uow,
            units,
            key=f"renewal-receipt/{a.subscription_id}/{period}",
            template="renewal_receipt",
            to=sub.email,
            context=context
            | {
                "period_start": emails.day(row.period_start),
                "period_end": emails.day(row.period_end),
                "reference": outcome.reference,
            },
        )
        return "succeeded"
    assert isinstance(outcome, Declined)
    if not charges.finish_attempt(
        session,
        row.id,
        state="declined",
        reference=outcome.reference,
        code=outcome.code,
        message=outcome.message,
        now=now,
    ):
        return "recorded_already"
    charge = charges.charge_declined(session, row.charge_id, now)
    log.info("renewals.declined", subscription_id=a.subscription_id, attempt=row.number, code=outcome.code)
    if ending:
        charges.charge_failed(session, row.charge_id)
        q.update_subscription(
            session,
            a.subscription_id,
            now,
            state="cancelled",
            next_attempt_at=None,
            cancelled_at=sub.cancelled_at or now,
        )
        return "cancelled"
    if sub.payment_method_ref != row.payment_method_ref:
        # A new card came while this one was tried: it is tried now (services/renewals.py runs
        # again under its lock), not after the next offset, and the customer, who just acted, is
        # not asked to update the card. Its attempt uses up the next step, as any new card's.
        q.update_subscription(
            session,
            a.subscription_id,
            now,
            state="past_due",
            next_attempt_at=now,
            dunning_step=charge.failures,
        )
        return NEW_CARD
    decision = rules.after_decline(
        charge.first_failed_at, charge.failures, settings.renewal_retry_offsets(), now
    )
    billing_url = settings.billing_url_template.replace("{subscription_id}", a.subscription_id)
    context |= {"billing_url": billing_url, "reason": emails.customer_reason(outcome.code)}
    if isinstance(decision, rules.RetryAt):
        q.update_subscription(
            session,
            a.subscription_id,
            now,
            state="past_due",
            next_attempt_at=decision.at,
            dunning_step=decision.step,
        )
        emails.queue(
            uow,
            units,
            key=f"renewal-failed/{a.subscription_id}/{period}/{row.number}",
            template="renewal_failed",
            to=sub.email,
            context=context | {"retry_at": emails.when(decision.at)},
        )
        return "declined"
    charges.charge_failed(session, row.charge_id)
    q.update_subscription(
        session,
        a.subscription_id,
        now,
        state="lapsed",
        lapsed_at=now,
        next_attempt_at=None,
        dunning_step=decision.step,
    )
    emails.queue(
        uow,
        units,
        key=f"renewal-lapsed/{a.subscription_id}/{period}/{row.number}",
        template="subscription_lapsed",
        to=sub.email,
        context=context,
    )
    return "lapsed"
