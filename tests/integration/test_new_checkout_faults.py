"""The one-statement reservation of a new checkout under faults a reviewer found: a connection
the server dropped (its pool has no pre-ping), and a deadlock with the low-stock alert's locks
where the database sorts SKUs unlike Python (any non-C collation)."""

import threading
import uuid
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import text

from core.clock import utcnow
from db.engine import make_engine, transaction
from db.intake import SingleStatements, make_single_statement_engine
from db.migrate import upgrade
from db.queries.alerts import claim_crossed
from db.queries.new_checkout import reserve_new_checkout
from services.reservations import Reservations
from tests.support import factories
from tests.support.servers import database_url, drop_database
from tests.support.waiting import wait_for


def test_a_reservation_after_the_server_dropped_the_connection_still_succeeds(engine, settings):
    single = make_single_statement_engine(settings, engine.url)
    service = Reservations(
        factories.units(engine), settings, utcnow, SingleStatements(single, factories.units(engine))
    )
    try:
        sku = factories.store_product(engine, settings, 10)
        service.reserve(factories.new_checkout_id(), email="a@example.com", cart_id=None, items=[(sku, 1)])
        with single.connect() as pooled:  # the connection the next call reuses
            pid = pooled.execute(text("SELECT pg_backend_pid()")).scalar()
        with transaction(engine) as s:
            s.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        again = service.reserve(
            factories.new_checkout_id(), email="b@example.com", cart_id=None, items=[(sku, 1)]
        )
        assert again.items == {sku: 1}
    finally:
        single.dispose()


@pytest.fixture
def icu_database(servers, settings):
    """A database whose collation sorts 'a-item' before 'B-item' (Python sorts them the other way)."""
    name = f"backroom_icu_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(servers.postgres_admin_url, autocommit=True) as admin:
        admin.execute(
            f'CREATE DATABASE "{name}" TEMPLATE template0 '
            "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
        )
    local = settings.model_copy(update={"database_url": database_url(servers.postgres_admin_url, name)})
    engine = make_engine(local)
    try:
        upgrade(engine)
        yield local, engine
    finally:
        engine.dispose()
        drop_database(servers.postgres_admin_url, name)


@pytest.mark.parametrize("path", ["one statement", "general"])
def test_a_reservation_and_the_low_stock_claim_never_deadlock(icu_database, path):
    settings, engine = icu_database
    upper, lower = "B-item", "a-item"
    with transaction(engine) as s:
        for sku in (upper, lower):  # both at their threshold: the alert claim locks them
            s.execute(
                text(
                    "INSERT INTO product (sku, name, stock, low_stock_threshold, price, currency) "
                    "VALUES (:s, :s, 5, 5, 100, 'USD')"
                ),
                {"s": sku},
            )
    single = make_single_statement_engine(settings, engine.url)
    blocker = psycopg.connect(settings.database_url.replace("+psycopg", ""))
    blocker.execute("SELECT 1 FROM product WHERE sku = %s FOR NO KEY UPDATE", (upper,))
    errors, owed = [], []

    def alerts():
        try:
            with transaction(engine) as s:
                claim_crossed(s, utcnow())
        except Exception as error:
            errors.append(error)

    def reserve():
        items = {upper: 1, lower: 1}
        try:
            if path == "general":
                Reservations(factories.units(engine), settings, utcnow).reserve(
                    "co-x", email="a@example.com", cart_id=None, items=list(items.items())
                )
                owed.append("general")
                return
            now = utcnow()
            with single.connect() as connection:
                owed.append(
                    reserve_new_checkout(
                        connection, "co-x", "a@example.com", None, items, now + timedelta(minutes=5), now
                    )
                )
        except Exception as error:
            errors.append(error)

    def waiting(n):
        with engine.connect() as c:
            found = c.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar()
        return found >= n

    try:
        first = threading.Thread(target=alerts)
        first.start()
        wait_for(lambda: waiting(1), timeout=10, what="the alert claim to wait")
        second = threading.Thread(target=reserve)
        second.start()
        wait_for(lambda: waiting(2), timeout=10, what="the reservation to wait")
        blocker.rollback()
        first.join(30)
        second.join(30)
    finally:
        blocker.close()
        single.dispose()
    assert errors == [] and len(owed) == 1 and owed[0] is not None
