"""Webhook intake's one-statement store: the body goes to PostgreSQL as received, and the event is
stored and enqueued once, whatever encoding JSON allows the provider to send it in."""

import json
import time
import uuid

import pytest
from sqlalchemy import text

from db.engine import transaction
from db.queries.webhooks import close_received
from tests.support.payloads import SECRETS, body
from tests.support.signing import sign_stripe


def _stripe(raw: bytes) -> dict[str, str]:
    return {**sign_stripe(raw, SECRETS["stripe"], int(time.time())), "Content-Type": "application/json"}


def _stored(engine, event_id):
    with transaction(engine) as session:
        return session.execute(
            text("SELECT id, payload, last_enqueued_at FROM webhook_event WHERE event_id = :e"),
            {"e": event_id},
        ).all()


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s.encode(),
        lambda s: b"\xef\xbb\xbf" + s.encode(),  # UTF-8 with a byte order mark
        lambda s: s.encode("utf-16"),  # json.loads takes UTF-16 and UTF-32 too
    ],
    ids=["utf-8", "utf-8-bom", "utf-16"],
)
def test_the_stored_payload_is_the_body_that_was_signed_in_any_json_encoding(client, engine, encode):
    event_id = f"evt_{uuid.uuid4().hex[:12]}"
    payload = body("stripe", "succeeded", checkout_id=f"co-{event_id}", payment_id=event_id)
    payload = {**payload, "id": event_id, "note": "caf\u00e9 \u2603", "big": 12345678901234567890}
    raw = encode(json.dumps(payload, ensure_ascii=False))
    answer = client.simulate_post("/v1/webhooks/stripe", body=raw, headers=_stripe(raw))
    assert answer.status_code == 200 and answer.json == {"received": True, "duplicate": False}
    [(row_id, stored, _)] = _stored(engine, event_id)
    assert stored == payload  # the large integer exactly, not as a float
    again = client.simulate_post("/v1/webhooks/stripe", body=raw, headers=_stripe(raw))
    assert again.status_code == 200 and again.json == {"received": True, "duplicate": True}
    assert len(_stored(engine, event_id)) == 1
    with transaction(engine) as session:  # the tests share a database: leave nothing for a reconciler
        close_received(session, row_id, "test done")


def test_a_body_postgres_cannot_parse_as_json_is_refused_and_nothing_is_stored(client, engine):
    event_id = f"evt_{uuid.uuid4().hex[:12]}"
    raw = f'{{"id": "{event_id}", "type": "charge.succeeded", "amount": NaN}}'.encode()  # Python reads NaN
    answer = client.simulate_post("/v1/webhooks/stripe", body=raw, headers=_stripe(raw))
    assert answer.status_code == 400 and answer.json["type"].endswith("/invalid-payload")
    assert _stored(engine, event_id) == []
