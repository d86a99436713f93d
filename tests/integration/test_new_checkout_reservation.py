"""A new checkout's reservation in one statement (db/queries/new_checkout.py, migration 0010):
the same outcome as the general path, nothing written when it declines, and at once, twice."""

import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from threading import Barrier

import pytest
from psycopg.pq import Trace
from sqlalchemy import Engine, event, text

from core.clock import utcnow
from core.errors import Conflict
from core.rules.money import Owed
from db.engine import transaction
from db.intake import SingleStatements, make_single_statement_engine
from db.queries.new_checkout import reserve_new_checkout
from services.reservations import Reservations
from tests.support import factories


@pytest.fixture
def statements(engine, settings):
    single = make_single_statement_engine(settings, engine.url)
    yield SingleStatements(single, factories.units(engine))
    single.dispose()


@pytest.fixture
def service(engine, settings, statements):
    return Reservations(factories.units(engine), settings, utcnow, statements)


def _state(engine, checkout, skus):
    """(checkout row exists, its holds, each SKU's reserved counter)."""
    with transaction(engine) as s:
        exists = s.execute(
            text("SELECT count(*) FROM checkout WHERE checkout_id = :c"), {"c": checkout}
        ).scalar()
        holds = s.execute(
            text("SELECT sku, quantity, state FROM reservation WHERE checkout_id = :c ORDER BY sku"),
            {"c": checkout},
        ).all()
        counters = dict(
            s.execute(text("SELECT sku, reserved FROM product WHERE sku = ANY(:s)"), {"s": skus}).all()
        )
    return bool(exists), [tuple(h) for h in holds], counters


def _call(statements, checkout, items, cart=None):
    now = datetime.now(UTC)
    with statements.begin() as unit:
        return reserve_new_checkout(
            unit.connection,
            checkout,
            "ada@example.com",
            cart,
            dict(sorted(items.items())),
            now + timedelta(minutes=15),
            now,
        )


@contextmanager
def sent_to_server(engine: Engine) -> Iterator[list[str]]:
    """The messages every connection checked out of `engine` sent PostgreSQL, from libpq's own
    trace (the call runs on the driver's cursor, below SQLAlchemy's events)."""
    sent: list[str] = []
    with tempfile.TemporaryFile("w+") as log:

        def checkout(dbapi_connection, record, proxy):
            dbapi_connection.pgconn.trace(log.fileno())
            dbapi_connection.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS)

        def checkin(dbapi_connection, record):
            dbapi_connection.pgconn.untrace()

        event.listen(engine, "checkout", checkout)
        event.listen(engine, "checkin", checkin)
        try:
            yield sent
        finally:
            event.remove(engine, "checkout", checkout)
            event.remove(engine, "checkin", checkin)
            log.seek(0)
            sent.extend(line for line in log.read().splitlines() if line.startswith("F\t"))


def test_a_new_checkout_is_created_held_and_counted_in_one_statement(engine, settings, statements, service):
    a = factories.store_product(engine, settings, 5, price=250)
    b = factories.store_product(engine, settings, 5, price=99)
    with sent_to_server(statements.engine) as sent:
        reserved = service.reserve(
            factories.new_checkout_id(), email="a@example.com", cart_id=None, items=[(a, 2), (b, 3), (a, 1)]
        )
    # One round trip: one Sync (extended protocol) or Query (simple), no BEGIN, no pre-ping.
    round_trips = [line for line in sent if line.split("\t")[2].strip() in ("Sync", "Query")]
    assert len(round_trips) == 1, sent
    assert any("reserve_new_checkout" in line for line in sent)
    assert reserved.owed == Owed(3 * 250 + 3 * 99, "USD") and reserved.items == {a: 3, b: 3}
    assert _state(engine, "none", [a, b])[2] == {a: 3, b: 3}


def test_skus_with_array_syntax_in_them_are_held_as_they_are(engine, settings, statements):
    """The items go to PostgreSQL as array literals: quotes, backslashes, commas, braces, spaces
    and the word NULL in a SKU arrive unchanged."""
    tag = factories.new_checkout_id()[-6:]
    odd = [f'q"{tag}', f"b\\{tag}", f"c,{tag}", f"{{{tag}}}", f" s {tag} ", "NULL"]
    for sku in odd:  # a PUT: "NULL" is stored again if an earlier test run left it
        factories.store_product(engine, settings, 5, sku=sku, price=10)
    checkout = factories.new_checkout_id()
    assert _call(statements, checkout, {sku: 1 for sku in odd}) == Owed(60, "USD")
    assert sorted(_state(engine, checkout, odd)[1]) == sorted((sku, 1, "active") for sku in odd)


def test_it_converts_the_cart_and_fixes_what_the_checkout_owes(engine, settings, statements, client):
    sku = factories.store_product(engine, settings, 5, price=300)
    cart = f"cart-{factories.new_checkout_id()}"
    put = client.simulate_put(
        f"/v1/carts/{cart}",
        json={"email": "ada@example.com", "items": [{"sku": sku, "quantity": 1}]},
        headers=factories.H,
    )
    assert put.status_code in (200, 201), put.json
    checkout = factories.new_checkout_id()
    assert _call(statements, checkout, {sku: 2}, cart=cart) == Owed(600, "USD")
    with transaction(engine) as s:
        assert (
            s.execute(text("SELECT state FROM cart WHERE cart_id = :c"), {"c": cart}).scalar() == "converted"
        )
        assert s.execute(
            text("SELECT amount, currency FROM checkout WHERE checkout_id = :c"), {"c": checkout}
        ).one() == (600, "USD")


def test_a_sku_that_does_not_fit_changes_nothing(engine, settings, statements):
    plenty = factories.store_product(engine, settings, 10)
    scarce = factories.store_product(engine, settings, 1)
    checkout = factories.new_checkout_id()
    assert _call(statements, checkout, {plenty: 1, scarce: 2}) is None
    assert _state(engine, checkout, [plenty, scarce]) == (False, [], {plenty: 0, scarce: 0})


@pytest.mark.parametrize("case", ["unknown", "unpriced", "mixed", "existing"])
def test_any_other_case_declines_and_writes_nothing(engine, settings, statements, case):
    sku = factories.store_product(engine, settings, 10)
    other = factories.store_product(engine, settings, 10)
    checkout = factories.new_checkout_id()
    if case == "unpriced":
        with transaction(engine) as s:
            s.execute(text("UPDATE product SET price = NULL, currency = NULL WHERE sku = :s"), {"s": other})
    if case == "mixed":
        with transaction(engine) as s:
            s.execute(text("UPDATE product SET currency = 'EUR' WHERE sku = :s"), {"s": other})
    if case == "existing":
        assert _call(statements, checkout, {sku: 1}) is not None
    items = {sku: 1, (f"{other}-missing" if case == "unknown" else other): 1}
    before = _state(engine, checkout, [sku, other])
    assert _call(statements, checkout, items) is None
    assert _state(engine, checkout, [sku, other]) == before


def test_expired_holds_in_the_way_are_ended_by_the_general_path(engine, settings, service):
    sku = factories.store_product(engine, settings, 1)
    first = factories.new_checkout_id()
    service.reserve(first, email="a@example.com", cart_id=None, items=[(sku, 1)])
    with transaction(engine) as s:
        s.execute(
            text("UPDATE reservation SET expires_at = now() - interval '1 second' WHERE checkout_id = :c"),
            {"c": first},
        )
    second = factories.new_checkout_id()
    assert service.reserve(second, email="b@example.com", cart_id=None, items=[(sku, 1)]).items == {sku: 1}
    assert _state(engine, first, [sku])[1] == [(sku, 1, "expired")]
    assert _state(engine, second, [sku])[1:] == ([(sku, 1, "active")], {sku: 1})
    with pytest.raises(Conflict):  # and it does not oversell: the general path refuses a third
        service.reserve(factories.new_checkout_id(), email="c@example.com", cart_id=None, items=[(sku, 1)])


def test_at_once_new_checkouts_never_oversell_and_one_checkout_holds_once(engine, settings, service):
    sku = factories.store_product(engine, settings, 10)
    clients = 24
    start = Barrier(clients)

    def fresh(_):
        start.wait()
        try:
            service.reserve(
                factories.new_checkout_id(), email="a@example.com", cart_id=None, items=[(sku, 1)]
            )
            return True
        except Conflict:
            return False

    with ThreadPoolExecutor(clients) as pool:
        assert sum(pool.map(fresh, range(clients))) == 10
    with transaction(engine) as s:
        held = s.execute(
            text("SELECT count(*) FROM reservation WHERE sku = :s AND state = 'active'"), {"s": sku}
        ).scalar()
    assert _state(engine, "none", [sku])[2] == {sku: 10} and held == 10

    other = factories.store_product(engine, settings, 10)
    checkout = factories.new_checkout_id()
    twice = Barrier(8)

    def same(_):
        twice.wait()
        return service.reserve(checkout, email="a@example.com", cart_id=None, items=[(other, 3)]).owed

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(same, range(8))) == {Owed(300, "USD")}
    assert _state(engine, checkout, [other]) == (True, [(other, 3, "active")], {other: 3})
