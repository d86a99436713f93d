"""Carts and the abandoned-cart sequence on real PostgreSQL, Redis, the session worker and the local
Resend server: the API, the steps driven by `now`, conversion, unsubscribing, two runs at once, and
the check against the cart right before an email goes."""

import dataclasses
import re
import threading
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import bindparam, text

from core.clock import utcnow
from core.messages import Outgoing
from core.rules.carts import unsubscribe_token
from db.engine import transaction
from db.unit_of_work import UnitsOfWork
from services.carts import Carts
from tests.support import factories
from tests.support.waiting import wait_for
from worker.messages import BrokerSender, send_email_message

H = factories.H


def new_cart_id():
    return f"cart-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def carts(engine, settings, broker, worker, clock):
    """The service as the job runs it, sending through the session's broker, on the test's clock."""
    return Carts(UnitsOfWork(engine, BrokerSender(broker)), settings, clock)


def put_cart(client, cart_id, items, **extra):
    body = {"items": [{"sku": s, "quantity": q} for s, q in items], **extra}
    return client.simulate_put(f"/v1/carts/{cart_id}", json=body, headers=H)


def idle_cart(client, clock, items, *, hours_ago=0.0, **extra):
    """A cart with an email and consent, last touched `hours_ago` before the clock's now."""
    cart_id = new_cart_id()
    when = (clock() - timedelta(hours=hours_ago)).isoformat()
    values = {"email": "ada@example.com", "marketing_consent": True, "updated_at": when, **extra}
    answer = put_cart(client, cart_id, items, **values)
    assert answer.status_code == 201, answer.json
    return cart_id


def emails_for(resend_server, cart_id):
    return [
        e for e in resend_server.emails if (e.idempotency_key or "").startswith(f"abandoned-cart/{cart_id}/")
    ]


def outbox_rows(engine, cart_id):
    with transaction(engine) as s:
        return s.execute(
            text("SELECT * FROM email_outbox WHERE idempotency_key LIKE :k ORDER BY id"),
            {"k": f"abandoned-cart/{cart_id}/%"},
        ).all()


def sent_keys(engine, cart_id):
    return [r.idempotency_key for r in outbox_rows(engine, cart_id) if r.state == "sent"]


def wait_sent(engine, cart_id, count):
    return wait_for(
        lambda: len(sent_keys(engine, cart_id)) == count and sent_keys(engine, cart_id),
        what=f"{count} reminder(s) for {cart_id} sent",
    )


def test_put_records_the_cart_and_only_changed_items_start_a_new_sequence(client, shop):
    a, b = shop.product(5), shop.product(5)
    cart_id = new_cart_id()
    created = put_cart(client, cart_id, [(a, 1), (b, 2)], email="ada@example.com")
    assert created.status_code == 201
    assert created.json["state"] == "active" and created.json["marketing_consent"] is False
    assert created.json["items"] == sorted([{"sku": a, "quantity": 1}, {"sku": b, "quantity": 2}], key=str)
    assert (created.json["sequence"], created.json["step_sent"], created.json["emails"]) == (1, 0, [])

    same = put_cart(client, cart_id, [(b, 1), (a, 1), (b, 1)], email="ada@example.com")  # same cart
    assert same.status_code == 200 and same.json["sequence"] == 1
    changed = put_cart(client, cart_id, [(a, 3)], email="ada@example.com", marketing_consent=True)
    assert changed.status_code == 200
    assert (changed.json["sequence"], changed.json["marketing_consent"]) == (2, True)
    got = client.simulate_get(f"/v1/carts/{cart_id}", headers=H)
    assert got.status_code == 200 and got.json == changed.json

    assert client.simulate_get(f"/v1/carts/{new_cart_id()}", headers=H).status_code == 404
    unknown = put_cart(client, new_cart_id(), [("no-such-sku-x", 1)])
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "items[0].sku"
    for body in ({"items": [{"sku": a, "quantity": 0}]}, {"items": [], "updated_at": "2026-01-01T00:00:00"}):
        answer = client.simulate_put(f"/v1/carts/{new_cart_id()}", json=body, headers=H)
        assert answer.status_code == 422, body
    assert client.simulate_put(f"/v1/carts/{cart_id}", json={"items": []}).status_code == 401


def test_steps_go_one_a_run_in_order_with_names_prices_links_and_unsubscribe_headers(
    client, shop, carts, clock, engine, resend_server, settings
):
    sku = shop.product(5, price=1250, currency="EUR")
    cart_id = idle_cart(client, clock, [(sku, 2)])
    assert carts.send_abandoned_cart_emails() >= 0
    assert outbox_rows(engine, cart_id) == []  # not idle an hour yet

    clock.advance(3600)
    carts.send_abandoned_cart_emails()
    assert wait_sent(engine, cart_id, 1) == [f"abandoned-cart/{cart_id}/1/1"]
    (email,) = emails_for(resend_server, cart_id)
    assert email.body["to"] == "ada@example.com" or email.body["to"] == ["ada@example.com"]
    assert f"2 x Item {sku} at 12.50 EUR each" in email.body["text"]
    assert f"https://shop.example.com/cart/{cart_id}" in email.body["text"]
    token = unsubscribe_token(settings.internal_api_secret.get_secret_value(), cart_id)
    link = f"{settings.public_base_url}/v1/carts/unsubscribe?token={token}"
    assert link in email.body["text"] and link.replace("&", "&amp;") in email.body["html"]
    assert email.body["headers"] == {
        "List-Unsubscribe": f"<{link}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }

    carts.send_abandoned_cart_emails()  # the same moment again: nothing new
    clock.advance(100 * 3600)  # late: past steps 2 and 3, but one step a run
    carts.send_abandoned_cart_emails()
    assert wait_sent(engine, cart_id, 2)[-1] == f"abandoned-cart/{cart_id}/1/2"
    carts.send_abandoned_cart_emails()
    assert wait_sent(engine, cart_id, 3)[-1] == f"abandoned-cart/{cart_id}/1/3"
    carts.send_abandoned_cart_emails()  # none after the last
    assert len(outbox_rows(engine, cart_id)) == 3
    view = client.simulate_get(f"/v1/carts/{cart_id}", headers=H).json
    assert view["step_sent"] == 3
    assert [(e["sequence"], e["step"], e["state"]) for e in view["emails"]] == [
        (1, 1, "sent"),
        (1, 2, "sent"),
        (1, 3, "sent"),
    ]

    # New items: a new sequence, whose steps are new keys once it is idle again.
    put_cart(client, cart_id, [(sku, 3)], email="ada@example.com", marketing_consent=True)
    clock.advance(3600)
    carts.send_abandoned_cart_emails()
    assert wait_sent(engine, cart_id, 4)[-1] == f"abandoned-cart/{cart_id}/2/1"
    assert len(emails_for(resend_server, cart_id)) == 4


def test_no_reminder_without_consent_or_email(client, shop, carts, clock, engine):
    sku = shop.product(5)
    silent = [
        idle_cart(client, clock, [(sku, 1)], hours_ago=2, marketing_consent=False),
        idle_cart(client, clock, [(sku, 1)], hours_ago=2, email=None),
        idle_cart(client, clock, [], hours_ago=2),  # emptied
    ]
    carts.send_abandoned_cart_emails()
    assert all(outbox_rows(engine, cart_id) == [] for cart_id in silent)


def test_a_reservation_or_a_paid_order_with_the_cart_id_converts_it(client, shop, carts, clock, engine):
    sku = shop.product(5)
    reserved = idle_cart(client, clock, [(sku, 1)], hours_ago=2)
    answer = factories.reserve(client, factories.new_checkout_id(), [(sku, 1)], cart_id=reserved)
    assert answer.status_code == 201
    assert client.simulate_get(f"/v1/carts/{reserved}", headers=H).json["state"] == "converted"

    # A checkout that named the cart before the storefront reported it: the paid order converts it.
    paid_checkout, paid = factories.new_checkout_id(), new_cart_id()
    assert factories.reserve(client, paid_checkout, [(sku, 1)], cart_id=paid).status_code == 201
    when = (clock() - timedelta(hours=2)).isoformat()
    body = {"email": "ada@example.com", "marketing_consent": True, "updated_at": when}
    assert put_cart(client, paid, [(sku, 1)], **body).json["state"] == "active"
    shop.post("stripe", "succeeded", paid_checkout)
    shop.settled(paid_checkout)
    assert client.simulate_get(f"/v1/carts/{paid}", headers=H).json["state"] == "converted"

    carts.send_abandoned_cart_emails()
    assert outbox_rows(engine, reserved) == [] and outbox_rows(engine, paid) == []
    again = put_cart(client, reserved, [(sku, 2)], **body)  # a PUT keeps the converted state
    assert again.status_code == 200 and again.json["state"] == "converted"


def test_unsubscribing_by_link_or_by_the_storefront_stops_the_sequence(client, shop, carts, clock, engine):
    sku = shop.product(5)
    cart_id = idle_cart(client, clock, [(sku, 1)], hours_ago=1)
    carts.send_abandoned_cart_emails()
    wait_sent(engine, cart_id, 1)
    link = re.search(
        r"(http\S+/v1/carts/unsubscribe\?token=\S+)",
        outbox_rows(engine, cart_id)[0].context["unsubscribe_url"],
    )
    url = urlsplit(link.group(1))
    path, query = url.path, url.query

    page = client.simulate_get(path, query_string=query)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'method="post"' in page.text and "token=" in page.text
    assert (
        client.simulate_get(f"/v1/carts/{cart_id}", headers=H).json["state"] == "active"
    )  # GET changes nothing
    one_click = client.simulate_post(
        path,
        query_string=query,
        body="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    assert client.simulate_get(f"/v1/carts/{cart_id}", headers=H).json["state"] == "unsubscribed"
    assert client.simulate_post(path, query_string=query).status_code == 200  # idempotent
    assert "You are unsubscribed" in client.simulate_get(path, query_string=query).text

    clock.advance(48 * 3600)
    carts.send_abandoned_cart_emails()
    assert len(outbox_rows(engine, cart_id)) == 1
    assert put_cart(client, cart_id, [(sku, 4)], email="ada@example.com").json["state"] == "unsubscribed"

    other = idle_cart(client, clock, [(sku, 1)], hours_ago=5)
    answer = client.simulate_post(f"/v1/carts/{other}/unsubscribe", headers=H)
    assert answer.status_code == 200 and answer.json["state"] == "unsubscribed"
    assert client.simulate_post(f"/v1/carts/{new_cart_id()}/unsubscribe", headers=H).status_code == 404
    carts.send_abandoned_cart_emails()
    assert outbox_rows(engine, other) == []


def test_bad_or_missing_tokens_are_problems(client, settings):
    secret = settings.internal_api_secret.get_secret_value()
    for method in ("GET", "POST"):
        for query in ("", "token=", "token=abc", f"token={unsubscribe_token('x' * 40, 'cart-1')}"):
            answer = client.simulate_request(method, "/v1/carts/unsubscribe", query_string=query)
            assert answer.status_code == 400, (method, query)
            assert answer.json["type"].endswith("/bad-unsubscribe-token")
        unknown = client.simulate_request(
            method, "/v1/carts/unsubscribe", query_string=f"token={unsubscribe_token(secret, new_cart_id())}"
        )
        assert unknown.status_code == 404


def test_two_runs_at_once_queue_one_email_a_step(client, shop, carts, clock, engine, resend_server):
    sku = shop.product(50)
    cart_ids = [idle_cart(client, clock, [(sku, 1)], hours_ago=1) for _ in range(15)]
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            barrier.wait()
            carts.send_abandoned_cart_emails()
        except Exception as error:  # pragma: no cover - shown by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    for cart_id in cart_ids:
        assert [r.idempotency_key for r in outbox_rows(engine, cart_id)] == [f"abandoned-cart/{cart_id}/1/1"]
        wait_sent(engine, cart_id, 1)
    wait_for(lambda: all(len(emails_for(resend_server, c)) == 1 for c in cart_ids), what="one email a cart")
    with transaction(engine) as s:
        count = s.execute(
            text("SELECT count(*) FROM cart_email WHERE cart_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": cart_ids},
        ).scalar_one()
    assert count == len(cart_ids)


class Held:
    """A sender that keeps messages: the reminder is queued, and sent when the test says."""

    def __init__(self):
        self.messages: list[Outgoing] = []

    def __call__(self, message):
        self.messages.append(message)
        return "held"


@pytest.mark.parametrize("change", ["converted", "unsubscribed", "items changed", "consent withdrawn"])
def test_an_email_whose_cart_changed_after_it_was_queued_is_not_sent(
    change, client, shop, engine, settings, broker, worker, clock, resend_server
):
    sku = shop.product(5)
    cart_id = idle_cart(client, clock, [(sku, 1)], hours_ago=1)
    held = Held()
    Carts(UnitsOfWork(engine, held), settings, clock).send_abandoned_cart_emails()
    (row,) = outbox_rows(engine, cart_id)
    assert row.state == "pending" and [m.args for m in held.messages if m.args == (row.id,)]

    if change == "converted":
        assert (
            factories.reserve(client, factories.new_checkout_id(), [(sku, 1)], cart_id=cart_id).status_code
            == 201
        )
    elif change == "unsubscribed":
        assert client.simulate_post(f"/v1/carts/{cart_id}/unsubscribe", headers=H).status_code == 200
    elif change == "items changed":
        put_cart(client, cart_id, [(sku, 2)], email="ada@example.com", marketing_consent=True)
    else:
        put_cart(client, cart_id, [(sku, 1)], email="ada@example.com", marketing_consent=False)

    send_email_message(broker, row.id)
    closed = wait_for(
        lambda: (r := outbox_rows(engine, cart_id)[0]).state == "failed" and r, what="closed unsent"
    )
    assert closed.last_error.startswith("not sent: ") and closed.provider_message_id is None
    assert emails_for(resend_server, cart_id) == []


def test_an_untouched_cart_email_still_goes(
    client, shop, engine, settings, broker, worker, clock, resend_server
):
    sku = shop.product(5)
    cart_id = idle_cart(client, clock, [(sku, 1)], hours_ago=1)
    held = Held()
    Carts(UnitsOfWork(engine, held), settings, clock).send_abandoned_cart_emails()
    (row,) = outbox_rows(engine, cart_id)
    send_email_message(broker, row.id)
    assert wait_sent(engine, cart_id, 1) == [f"abandoned-cart/{cart_id}/1/1"]
    assert len(emails_for(resend_server, cart_id)) == 1


def test_the_job_runs_on_the_worker(broker, worker, client, shop, engine):
    """The actor through the catalog: a cart idle by the real clock gets its first step."""
    from worker.messages import enqueue

    sku = shop.product(5)
    cart_id = new_cart_id()
    when = (utcnow() - timedelta(hours=2)).isoformat()
    body = {"email": "ada@example.com", "marketing_consent": True, "updated_at": when}
    assert put_cart(client, cart_id, [(sku, 1)], **body).status_code == 201
    enqueue(broker, "abandoned-carts")
    assert wait_sent(engine, cart_id, 1) == [f"abandoned-cart/{cart_id}/1/1"]


def test_one_run_sends_one_step_a_cart_even_when_batches_run_over(client, shop, carts, clock, engine):
    """Found by review: a full batch made the run look again, and carts it had just advanced were
    due for their next step at once (idle for days): three emails a cart in one run."""
    sku = shop.product(50)
    small = dataclasses.replace(carts, batch_size=2)
    idle = [idle_cart(client, clock, [(sku, 1)], hours_ago=100) for _ in range(3)]
    small.send_abandoned_cart_emails()
    for cart_id in idle:
        assert [r.idempotency_key.rsplit("/", 1)[1] for r in outbox_rows(engine, cart_id)] == ["1"]


def test_emptied_carts_never_hold_up_the_carts_behind_them(client, shop, carts, clock, engine):
    """Found by review: emptied carts stayed due and first in line, filling every batch."""
    sku = shop.product(50)
    small = dataclasses.replace(carts, batch_size=2)
    for _ in range(3):
        idle_cart(client, clock, [], hours_ago=200)
    waiting = idle_cart(client, clock, [(sku, 1)], hours_ago=2)
    small.send_abandoned_cart_emails()
    assert len(outbox_rows(engine, waiting)) == 1
