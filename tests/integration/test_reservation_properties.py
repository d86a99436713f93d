"""Random reserve / release / expire / clock sequences against real PostgreSQL."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import text

from core.errors import Conflict
from db.engine import transaction
from tests.support.factories import products_service, reservations_service, store_product

TTL = 60
CHECKOUTS = [f"c{i}" for i in range(4)]


@pytest.fixture
def machine(engine, settings):
    class Reservations(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.run = uuid.uuid4().hex[:8]
            self.now = datetime(2026, 1, 1, tzinfo=UTC)
            self.stock = {f"{self.run}-a": 3, f"{self.run}-b": 5}
            self.holds: dict[str, tuple[dict[str, int], datetime]] = {}
            clock = lambda: self.now  # noqa: E731
            self.reservations = reservations_service(
                engine, settings, clock, reservation_ttl_seconds=TTL, stock_cleanup_batch_size=2
            )
            self.products = products_service(engine, settings, clock)
            for sku, units in self.stock.items():
                store_product(engine, settings, units, sku=sku)

        def cid(self, checkout):
            return f"{self.run}-{checkout}"

        def live(self, sku, but=None):
            return sum(
                items.get(sku, 0) for c, (items, exp) in self.holds.items() if exp > self.now and c != but
            )

        @rule(checkout=st.sampled_from(CHECKOUTS), a=st.integers(0, 4), b=st.integers(0, 6))
        def reserve(self, checkout, a, b):
            skus = list(self.stock)
            items = {sku: n for sku, n in zip(skus, (a, b), strict=True) if n}
            if not items:
                return
            fits = all(n <= self.stock[s] - self.live(s, but=checkout) for s, n in items.items())
            try:
                self.reservations.reserve(
                    self.cid(checkout), email="x@example.com", cart_id=None, items=sorted(items.items())
                )
                shortages = False
            except Conflict as error:
                assert error.slug == "insufficient-stock"
                shortages = True
            assert (not shortages) == fits
            if fits:
                previous = self.holds.get(checkout)
                same = previous and previous[1] > self.now and previous[0] == items
                if not same:
                    self.holds[checkout] = (items, self.now + timedelta(seconds=TTL))

        @precondition(lambda self: self.holds)
        @rule(data=st.data())
        def release(self, data):
            checkout = data.draw(st.sampled_from(sorted(self.holds)))
            self.reservations.release(self.cid(checkout))
            del self.holds[checkout]

        @rule(seconds=st.integers(1, 90))
        def advance(self, seconds):
            self.now += timedelta(seconds=seconds)

        @rule()
        def cleanup(self):
            self.reservations.expire_reservations()  # in batches of 2

        @invariant()
        def reserved_stays_within_stock(self):
            with transaction(engine) as s:
                for sku, units in self.stock.items():
                    view = self.products.get_product(sku)
                    assert 0 <= view.reserved <= units
                    assert view.reserved == self.live(sku)
                    active_rows = s.execute(
                        text("SELECT count(*) FROM reservation WHERE sku = :sku AND state = 'active'"),
                        {"sku": sku},
                    ).scalar_one()
                    assert active_rows <= len(CHECKOUTS)  # one live hold per checkout and SKU
                    counter, held = s.execute(
                        text(
                            "SELECT reserved, (SELECT COALESCE(SUM(quantity), 0) FROM reservation "
                            "WHERE sku = :sku AND state = 'active') FROM product WHERE sku = :sku"
                        ),
                        {"sku": sku},
                    ).one()
                    assert counter == held  # the counter counts every active hold, expired or not

    return Reservations


def test_random_sequences_never_overreserve(machine):
    runner = machine.TestCase
    runner.settings = settings(
        max_examples=40,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    runner().runTest()
