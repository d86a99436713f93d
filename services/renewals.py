"""Premium renewals: charge each due subscription's next period at most once, whatever happens.

`Renewals.renew_subscription(id)` (the `subscriptions.renew` actor), under a session-level advisory
lock for the subscription (two runs never call the gateway for it together; a killed worker's
connection closes and frees it):
- Tx A: with the subscription row locked, an attempt whose outcome is unknown (`started`: a worker
  died, or the gateway was down) is taken up again first. Else `rules.renewal_action` decides: not
  due, cancelled at the period's end, or charge: the period's charge row (unique per period) and a
  new attempt (`started`, key `renewal/{id}/{period_start}/{n}`). Commit before any gateway call.
- The gateway: `start` gives the payment's reference, stored in its own transaction BEFORE
  `settle` can move money, so a run after a crash settles that same payment instead of another.
  `GatewayUnavailable` propagates: the actor is retried; nothing changes, nobody is emailed.
- Tx B: the outcome on the attempt, the charge and the subscription (success: the period advances
  and a receipt; a decline: the dunning schedule, then lapsed, an email each step; a decline of a
  card replaced meanwhile: the new card is tried at once, in the same run).
The rows guarantee it (one charge a period; at most one attempt of a charge open or succeeded);
the checks in Python only spare the gateway a call. `renew_due` fans the due ids out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.billing.gateway import Declined, RenewalGateway, Succeeded
from core.catalog import RENEWAL_ACTOR
from core.logging import get_logger
from core.rules import subscriptions as rules
from core.settings import Settings
from db.queries import renewal_charges as charges
from db.queries import renewals as q
from db.unit_of_work import UnitsOfWork
from services.renewal_attempts import Attempt, charge_request
from services.renewal_outcomes import NEW_CARD, record_outcome

log = get_logger("backroom.services.renewals")

BATCH_SIZE = 500
MAX_BATCHES_PER_RUN = 100


@dataclass(frozen=True)
class Renewals:
    units: UnitsOfWork
    settings: Settings
    now: Callable[[], datetime]
    gateway_for: Callable[[str], RenewalGateway]
    batch_size: int = BATCH_SIZE

    def renew_due(self) -> int:
        """Send one renewal message per due subscription (bounded batches, after each commits):
        how many. Duplicates are harmless: each renewal takes the lock and checks again."""
        total, after = 0, ""
        for _ in range(MAX_BATCHES_PER_RUN):
            with self.units.begin() as uow:
                ids = q.due_ids(uow.session, self.now(), after, self.batch_size)
                for subscription_id in ids:
                    uow.send_after_commit(*RENEWAL_ACTOR, subscription_id)
            total += len(ids)
            if len(ids) < self.batch_size:
                break
            after = ids[-1]
        log.info("renewals.due_sent", subscriptions=total)
        return total

    def renew_subscription(self, subscription_id: str) -> str:
        """Renew one subscription if it is due: what happened (`busy`, `not_due`, `cancelled`,
        `succeeded`, `declined`, `lapsed`, ...). Raises GatewayUnavailable for a retry."""
        # Autocommit: the lock is the connection's, no transaction stays open across the call.
        with self.units.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock:
            if not q.try_lock(lock, subscription_id):
                log.info("renewals.busy", subscription_id=subscription_id)
                return "busy"
            try:
                outcome = self._renew_locked(subscription_id)
            finally:
                try:
                    q.unlock(lock, subscription_id)
                except BaseException:  # never hand a connection still holding the lock back to the pool
                    lock.invalidate()
                    raise
        log.info("renewals.renewed", subscription_id=subscription_id, outcome=outcome)
        return outcome

    def _renew_locked(self, subscription_id: str) -> str:
        outcome = self._renew_once(subscription_id)
        if outcome == NEW_CARD:  # a new card came during the attempt: try it now, under this lock
            outcome = self._renew_once(subscription_id)
        return outcome

    def _renew_once(self, subscription_id: str) -> str:
        with self.units.begin() as uow:
            attempt = self._prepare(uow.session, subscription_id)
        if isinstance(attempt, str):
            return attempt
        outcome = self._charge(attempt)
        with self.units.begin() as uow:
            return record_outcome(uow, self.units, self.settings, attempt, outcome, self.now())

    def _prepare(self, session: Any, subscription_id: str) -> Attempt | str:
        """Tx A: the attempt to settle (an open one first), or why there is none."""
        sub = q.lock_subscription(session, subscription_id)
        if sub is None:
            return "missing"
        row = charges.open_attempt(session, subscription_id) or self._new_attempt(session, sub)
        if isinstance(row, str):
            return row
        return Attempt(subscription_id, row, charge_request(sub, row))

    def _new_attempt(self, session: Any, sub: Any) -> Any:
        now, sub_id = self.now(), sub.subscription_id
        action = rules.renewal_action(
            state=sub.state,
            cancel_at_period_end=sub.cancel_at_period_end,
            current_period_end=sub.current_period_end,
            next_attempt_at=sub.next_attempt_at,
            interval=sub.interval,
            anchor_day=sub.anchor_day,
            now=now,
        )
        if isinstance(action, rules.NotDue):
            return "not_due"
        if isinstance(action, rules.EndAtPeriodEnd):
            q.update_subscription(
                session, sub_id, now, state="cancelled", cancelled_at=now, next_attempt_at=None
            )
            return "cancelled"
        charge = charges.charge_for_period(session, sub, action.period_start, action.period_end)
        if charge.state == "succeeded":  # paid (the rows say so) but the period is behind: catch up
            paid = {"state": "active", "dunning_step": 0, "next_attempt_at": None}
            q.update_subscription(session, sub_id, now, current_period_end=charge.period_end, **paid)
            return "paid_already"
        charges.add_attempt(
            session,
            charge.id,
            key_for=lambda n: rules.idempotency_key(sub_id, charge.period_start, n),
            gateway=sub.gateway,
            payment_method_ref=sub.payment_method_ref,
        )
        return charges.open_attempt(session, sub_id)

    def _charge(self, attempt: Attempt) -> Succeeded | Declined:
        gateway, request = self.gateway_for(attempt.row.gateway), attempt.request
        reference = attempt.row.gateway_reference
        if reference is None:
            started = gateway.start(request)
            if isinstance(started, Declined):
                return started
            reference = started
            # Durable before money can move: a run after a crash settles this payment, no other.
            with self.units.begin() as uow:
                charges.set_attempt_reference(uow.session, attempt.row.id, reference)
        return gateway.settle(reference, request)
