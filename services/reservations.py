"""Reservations: hold stock for a checkout all or nothing, release it, expire what ran out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from time import monotonic

from core.catalog import JOBS
from core.errors import Conflict, NotFound
from core.rules import stock as rules
from core.rules.money import Owed
from core.settings import Settings
from db.intake import SingleStatements
from db.queries import reserved
from db.queries import stock as queries
from db.queries.carts import mark_converted
from db.queries.new_checkout import reserve_new_checkout
from db.queries.products import prices
from db.unit_of_work import UnitsOfWork
from services.reservation_refusals import owed_for, unknown_skus
from services.reservation_shortages import ExpiryInFlight, check_shortages

__all__ = ["CheckoutClosed", "CheckoutNotFound", "Reservations", "Reserved", "unknown_skus"]

# Bounded work per cleanup run (batches, wall-clock seconds); the run then re-enqueues itself.
MAX_BATCHES_PER_RUN = 50
RUN_SECONDS = 20.0


class CheckoutClosed(Conflict):
    slug, title = "checkout-closed", "Checkout closed"


class CheckoutNotFound(NotFound):
    slug, title = "checkout-not-found", "Checkout not found"


@dataclass(frozen=True)
class Reserved:
    """What the checkout holds now and owes; `repeated` when the call changed nothing."""

    items: dict[str, int]
    expires_at: datetime
    owed: Owed
    repeated: bool = False


@dataclass(frozen=True)
class Reservations:
    units: UnitsOfWork
    settings: Settings
    now: Callable[[], datetime]
    # One-statement units for a new checkout's reservation (the web process); without them
    # every reservation takes the general path.
    statements: SingleStatements | None = None

    def reserve(
        self, checkout_id: str, *, email: str, cart_id: str | None, items: Sequence[tuple[str, int]]
    ) -> Reserved:
        """Hold `items` (as listed in the request) for the checkout, replacing what it held before.

        All or nothing: any refusal rolls the whole transaction back, old holds included. The
        checkout row lock serialises repeats of one checkout; the products' reserved counters
        change in the transaction's last statement, so their row locks are held only for it
        and the commit (db/queries/reserved.py). A new checkout whose items simply fit is all
        of that in one statement (db/queries/new_checkout.py); every other case, here.
        """
        if self.statements is not None and (first := self._reserve_new(checkout_id, email, cart_id, items)):
            return first
        try:
            return self._reserve(checkout_id, email, cart_id, items, settle=[])
        except ExpiryInFlight as busy:
            # Expired holds another transaction was ending made the difference: wait for that
            # one (holding no product row), then try once more.
            return self._reserve(checkout_id, email, cart_id, items, settle=busy.skus)

    def _reserve_new(
        self, checkout_id: str, email: str, cart_id: str | None, items: Sequence[tuple[str, int]]
    ) -> Reserved | None:
        assert self.statements is not None
        wanted, now = rules.merge_items(items), self.now()
        expires_at = rules.expiry(now, self.settings.reservation_ttl_seconds)
        with self.statements.begin() as unit:
            owed = reserve_new_checkout(unit.connection, checkout_id, email, cart_id, wanted, expires_at, now)
        return None if owed is None else Reserved(wanted, expires_at, owed)

    def _reserve(
        self,
        checkout_id: str,
        email: str,
        cart_id: str | None,
        items: Sequence[tuple[str, int]],
        settle: list[str],
    ) -> Reserved:
        wanted = rules.merge_items(items)
        now = self.now()
        with self.units.begin() as uow:
            session = uow.session
            checkout = queries.lock_or_create_checkout(session, checkout_id, email, cart_id)
            if checkout.state == "converted":
                raise CheckoutClosed("This checkout is already an order; its reservation cannot change.")
            live = [] if checkout.created else queries.live_holds(session, checkout_id, now)
            if rules.is_same_request(wanted, {h.sku: h.quantity for h in live}) and checkout.owed is not None:
                return Reserved(wanted, min(h.expires_at for h in live), checkout.owed, repeated=True)

            priced = prices(session, list(wanted))
            missing = {sku for sku in wanted if sku not in priced}
            if missing:
                raise unknown_skus(items, missing)
            owed = owed_for(wanted, priced)
            # Units of holds this transaction ends: off the counters in its last statement. A
            # retry first ends the expired holds that were in its way, waiting for their lockers.
            ended = reserved.end_expired(session, settle, now, wait=True) if settle else {}
            if not checkout.created:
                for sku, units in queries.end_holds(session, checkout_id, now).items():
                    ended[sku] = ended.get(sku, 0) + units
            if cart_id is not None:  # the cart reached checkout: no abandoned-cart reminders
                mark_converted(session, cart_id, now)
            deltas = {sku: wanted.get(sku, 0) - ended.get(sku, 0) for sku in wanted.keys() | ended.keys()}
            deltas = {sku: delta for sku, delta in deltas.items() if delta}
            expires_at = rules.expiry(now, self.settings.reservation_ttl_seconds)
            changed = queries.hold_and_reserve(session, checkout_id, wanted, expires_at, owed, deltas)
            short = [sku for sku in sorted(deltas) if deltas[sku] > 0 and sku not in changed]
            if short:
                check_shortages(session, short, deltas, wanted, ended, now, retried=bool(settle))
        return Reserved(wanted, expires_at, owed)

    def release(self, checkout_id: str) -> int:
        """End every hold of an open checkout now: how many ended."""
        with self.units.begin() as uow:
            state = queries.lock_checkout_state(uow.session, checkout_id)
            if state is None:
                raise CheckoutNotFound(f"No checkout {checkout_id!r}.")
            if state == "converted":
                raise CheckoutClosed("This checkout is already an order; cancel the order instead.")
            ended = queries.end_holds(uow.session, checkout_id, self.now())
            reserved.change(uow.session, {sku: -units for sku, units in ended.items()})
            queries.mark_released(uow.session, checkout_id)
        return len(ended)  # one active hold per SKU

    def expire_reservations(self) -> int:
        """Mark active holds past their expiry expired, one bounded batch a transaction, until
        none is left: how many expired. A run stops after MAX_BATCHES_PER_RUN batches or
        RUN_SECONDS and, when a full batch says more is left, sends the job again after its
        last commit, so a backlog drains in a chain of bounded runs.

        Availability already ignores expired holds (a reservation ends a SKU's expired holds
        itself when they stand in its way), so a late run neither oversells nor blocks a sale.
        Idempotent; committed holds are never touched.
        """
        batch_size = self.settings.stock_cleanup_batch_size
        deadline = monotonic() + RUN_SECONDS
        total, after = 0, None
        for batch in range(1, MAX_BATCHES_PER_RUN + 1):
            with self.units.begin() as uow:
                expired, after = reserved.expire_batch(uow.session, self.now(), batch_size, after)
                more = expired == batch_size
                if more and (batch == MAX_BATCHES_PER_RUN or monotonic() >= deadline):
                    job = JOBS["stock-cleanup"]
                    uow.send_after_commit(job.actor_name, job.queue)
            total += expired
            if not more or batch == MAX_BATCHES_PER_RUN or monotonic() >= deadline:
                break
        return total
