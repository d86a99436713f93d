"""Reservations: hold stock for a checkout all or nothing, release it, expire what ran out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.errors import Conflict, Invalid, NotFound
from core.rules import stock as rules
from core.rules.money import MixedCurrency, Owed, Price, Unpriced, amount_owed
from core.settings import Settings
from db.queries import stock as queries
from db.queries.carts import mark_converted
from db.queries.products import lock_priced_products
from db.unit_of_work import UnitsOfWork

# Bounded work per cleanup run: the next scheduled run picks up whatever is left.
MAX_BATCHES_PER_RUN = 50


def unknown_skus(items: Sequence[tuple[str, int]], missing: set[str]) -> Invalid:
    """The 422 naming each line whose SKU has no product, by its position in the request."""
    return Invalid(
        "Some SKUs do not exist.",
        [
            {"field": f"items[{i}].sku", "message": f"unknown SKU {sku!r}"}
            for i, (sku, _) in enumerate(items)
            if sku in missing
        ],
    )


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

    def reserve(
        self, checkout_id: str, *, email: str, cart_id: str | None, items: Sequence[tuple[str, int]]
    ) -> Reserved:
        """Hold `items` (as listed in the request) for the checkout, replacing what it held before.

        All or nothing: any refusal rolls the whole transaction back, old holds included. The
        checkout row lock serialises repeats of one checkout; product rows are locked in SKU
        order, so the availability read cannot go stale before the insert.
        """
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

            priced = lock_priced_products(session, list(wanted))
            missing = {sku for sku in wanted if sku not in priced}
            if missing:
                raise unknown_skus(items, missing)
            owed = self._owed(wanted, {sku: price for sku, (_, price) in priced.items()})
            on_hand = {sku: stock for sku, (stock, _) in priced.items()}
            held = queries.held_by_others(session, list(wanted), checkout_id, now)
            shortages = rules.find_shortages(wanted, on_hand, held)
            if shortages:
                raise Conflict(
                    "Not enough stock for every item; nothing was reserved.",
                    slug="insufficient-stock",
                    title="Insufficient stock",
                    shortages=[vars(s) for s in shortages],
                )
            if not checkout.created:
                queries.end_holds(session, checkout_id, now)
            expires_at = rules.expiry(now, self.settings.reservation_ttl_seconds)
            queries.insert_holds(session, checkout_id, wanted, expires_at)
            queries.record_owed(session, checkout_id, owed)
            if cart_id is not None:  # the cart reached checkout: no abandoned-cart reminders
                mark_converted(session, cart_id, now)
        return Reserved(wanted, expires_at, owed)

    @staticmethod
    def _owed(items: dict[str, int], prices: dict[str, Price]) -> Owed:
        """What the items cost in one currency, or the error that says why there is no total."""
        try:
            return amount_owed(items, prices)
        except Unpriced as error:
            raise Conflict(
                f"Give {', '.join(error.skus)} a price (PUT /v1/products/{{sku}}) before reserving it.",
                slug="product-unpriced",
                title="Product has no price",
                skus=error.skus,
            ) from None
        except MixedCurrency as error:
            raise Invalid(
                "A checkout is paid in one currency; these items are priced in several.",
                [{"field": "items", "message": f"priced in {' and '.join(error.currencies)}"}],
                slug="mixed-currency",
                title="Mixed currencies",
            ) from None

    def release(self, checkout_id: str) -> int:
        """End every hold of an open checkout now: how many ended."""
        with self.units.begin() as uow:
            state = queries.lock_checkout_state(uow.session, checkout_id)
            if state is None:
                raise CheckoutNotFound(f"No checkout {checkout_id!r}.")
            if state == "converted":
                raise CheckoutClosed("This checkout is already an order; cancel the order instead.")
            ended = queries.end_holds(uow.session, checkout_id, self.now())
            queries.mark_released(uow.session, checkout_id)
        return ended

    def expire_reservations(self) -> int:
        """Mark active holds past their expiry expired, one bounded batch a transaction, until
        none is left or the run's bound is reached: how many expired.

        Garbage collection only: availability already ignores expired holds, so a late run
        neither oversells nor blocks a sale. Idempotent; committed holds are never touched.
        """
        batch_size = self.settings.stock_cleanup_batch_size
        total = 0
        for _ in range(MAX_BATCHES_PER_RUN):
            with self.units.begin() as uow:
                expired = queries.expire_batch(uow.session, self.now(), batch_size)
            total += expired
            if expired < batch_size:
                break
        return total
