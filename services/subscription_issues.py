"""Subscriptions that need a person: the operators' list of past-due and lapsed ones, and their
"try the card again now" (the API, the CLI and /admin call these)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.catalog import RENEWAL_ACTOR
from core.errors import Conflict
from core.logging import get_logger
from db.queries import subscriptions as q
from db.unit_of_work import UnitsOfWork
from services.subscription_views import issue_view
from services.subscriptions import NEEDING_A_PERSON, locked, view_of

log = get_logger("backroom.services.subscription_issues")


class NotRetryable(Conflict):
    slug, title = "subscription-not-retryable", "Subscription cannot be retried"


@dataclass(frozen=True)
class SubscriptionIssues:
    units: UnitsOfWork
    now: Callable[[], datetime]

    def retry_now(self, subscription_id: str) -> dict[str, Any]:
        """An operator's "try the card again now": past due -> next attempt now; lapsed -> past
        due again with one more attempt (a decline lapses it again). Then its renewal is sent."""
        now = self.now()
        with self.units.begin() as uow:
            stored = locked(uow.session, subscription_id)
            if stored.state == "past_due":
                q.update_subscription(uow.session, subscription_id, now, next_attempt_at=now)
            elif stored.state == "lapsed":
                q.update_subscription(
                    uow.session, subscription_id, now, state="past_due", lapsed_at=None, next_attempt_at=now
                )
            else:
                raise NotRetryable(
                    f"Subscription {subscription_id!r} is {stored.state}: only past_due or lapsed "
                    "subscriptions are retried."
                )
            uow.send_after_commit(*RENEWAL_ACTOR, subscription_id)
            view = view_of(uow.session, subscription_id)
        log.info("subscriptions.retry_now", subscription_id=subscription_id, was=stored.state)
        return view

    def needing_a_person(
        self, state: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Past-due and lapsed subscriptions (or one of the two), the longest unpaid first."""
        states = [state] if state else list(NEEDING_A_PERSON)
        with self.units.begin() as uow:
            rows = q.needing_a_person(uow.session, states, limit=limit, offset=offset)
        return [issue_view(row) for row in rows]
