"""Premium subscriptions as the storefront sells them (operators' actions: subscription_issues).

`Subscriptions.put` records what the storefront knows; the renewal run (services/renewals.py) owns
the state, the period and the charges from then on. The rules of a PUT on an existing subscription:

- email, plan, amount, currency, interval, gateway, customer_ref and payment_method_ref are
  replaced. A charge already started keeps its own amount and currency (they are on its row).
- `current_period_end` is ours once created (renewals advance it): an update's value is applied
  only when it is LATER than the stored one (an extension; `anchor_day` follows it, the day of the
  month in UTC); an earlier or equal one is ignored and the answer shows the stored period.
  A past-due or lapsed subscription's period is never extended: its unpaid period is settled
  (paid, lapsed or cancelled) first, so no charge is left pending behind a moved period.
- a NEW `payment_method_ref` on a `past_due` or `lapsed` subscription sets `next_attempt_at = now`
  (a lapsed one is `past_due` again) and sends the subscription's renewal after commit: the card
  is tried at once, not at the next hourly run; a decline of that attempt lapses it again.
- `cancelled`: refused (409 `subscription-ended`); a new subscription needs a new id.
- `lapsed` without a new card: the fields are replaced but it stays lapsed (`retry_now` revives it).

A new subscription's `current_period_end` must not be in the past (422 naming it).

Cancelling (`cancel`) is idempotent: an active subscription ends at its period's end (the renewal
run marks it cancelled and charges nothing); a past-due or lapsed one is cancelled now and its
dunning stops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from core.catalog import RENEWAL_ACTOR
from core.errors import Conflict, Invalid, NotFound
from core.logging import get_logger
from core.settings import Settings
from db.queries import subscriptions as q
from db.unit_of_work import UnitsOfWork
from services.subscription_views import subscription_view

log = get_logger("backroom.services.subscriptions")

NEEDING_A_PERSON = ("past_due", "lapsed")
# Every period that has ended is charged (one a run): a past end on a new subscription would
# charge the customer at once for periods the storefront may already have billed.
_PAST_PERIOD_END = {
    "field": "current_period_end",
    "message": "must not be in the past: the period the customer has paid for ends then",
}


class SubscriptionNotFound(NotFound):
    slug, title = "subscription-not-found", "Subscription not found"


class SubscriptionEnded(Conflict):
    slug, title = "subscription-ended", "Subscription ended"


@dataclass(frozen=True)
class Terms:
    """What the storefront sold: the body of a PUT, validated by the API."""

    email: str
    plan: str
    amount: int
    currency: str
    interval: str
    current_period_end: datetime
    gateway: str
    customer_ref: str
    payment_method_ref: str


@dataclass(frozen=True)
class PutSubscription:
    subscription: dict[str, Any]
    created: bool


@dataclass(frozen=True)
class Subscriptions:
    units: UnitsOfWork
    settings: Settings
    now: Callable[[], datetime]

    def put(self, subscription_id: str, terms: Terms) -> PutSubscription:
        """Create the subscription (active, anchored on its period end's day in UTC) or update it
        by the rules in this module's docstring."""
        now = self.now()
        end = terms.current_period_end
        values = {**asdict(terms), "anchor_day": end.astimezone(UTC).day}
        with self.units.begin() as uow:
            session = uow.session
            created = q.insert_subscription(session, subscription_id, now, **values)
            if created and end < now:  # rolled back with the transaction
                raise Invalid(
                    "A new subscription's current_period_end must not be in the past.",
                    errors=[_PAST_PERIOD_END],
                )
            if not created:
                stored = q.get_subscription(session, subscription_id, lock=True)
                assert stored is not None  # subscriptions are never deleted by a request
                if stored.state == "cancelled":
                    raise SubscriptionEnded(
                        f"Subscription {subscription_id!r} was cancelled; a new subscription needs a new id."
                    )
                if end <= stored.current_period_end or stored.state != "active":  # ours: renewals move it
                    del values["current_period_end"], values["anchor_day"]
                new_card = terms.payment_method_ref != stored.payment_method_ref
                if new_card and stored.state in NEEDING_A_PERSON:
                    # The customer acted on our email: the card is tried at once, and a lapsed
                    # subscription gets that one more attempt (a decline lapses it again).
                    values |= {"next_attempt_at": now, "state": "past_due", "lapsed_at": None}
                    uow.send_after_commit(*RENEWAL_ACTOR, subscription_id)
                q.update_subscription(session, subscription_id, now, **values)
            view = view_of(session, subscription_id)
        log.info("subscriptions.put", subscription_id=subscription_id, created=created)
        return PutSubscription(view, created)

    def get(self, subscription_id: str) -> dict[str, Any]:
        with self.units.begin() as uow:
            return view_of(uow.session, subscription_id)

    def cancel(self, subscription_id: str) -> dict[str, Any]:
        """Active: ends at the period's end. Past due or lapsed: cancelled now, dunning stops.
        Cancelled: nothing changes. The answer is the subscription either way."""
        now = self.now()
        with self.units.begin() as uow:
            stored = locked(uow.session, subscription_id)
            if stored.state == "active" and not stored.cancel_at_period_end:
                q.update_subscription(uow.session, subscription_id, now, cancel_at_period_end=True)
            elif stored.state in NEEDING_A_PERSON:
                q.update_subscription(
                    uow.session,
                    subscription_id,
                    now,
                    state="cancelled",
                    cancelled_at=now,
                    next_attempt_at=None,
                )
            view = view_of(uow.session, subscription_id)
        log.info("subscriptions.cancelled", subscription_id=subscription_id, state=view["state"])
        return view


def locked(session: Session, subscription_id: str) -> Any:
    """The subscription's row, locked for this transaction; 404 when there is none."""
    stored = q.get_subscription(session, subscription_id, lock=True)
    if stored is None:
        raise SubscriptionNotFound(f"No subscription {subscription_id!r}.")
    return stored


def view_of(session: Session, subscription_id: str) -> dict[str, Any]:
    view = subscription_view(session, subscription_id)
    if view is None:
        raise SubscriptionNotFound(f"No subscription {subscription_id!r}.")
    return view
