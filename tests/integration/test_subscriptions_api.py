"""The storefront's /v1/subscriptions routes and the operators' /v1/admin/subscriptions on real
PostgreSQL and Redis: create and update (the period-end rule, a new card on a past-due
subscription), validation that changes nothing, cancel in every state, the view with charges and
attempts, the operators' list and retry. The renewal run itself is tested with its service."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import ADMIN, STOREFRONT, auth
from tests.support.storefront_subscriptions import (
    H,
    add_charge,
    body,
    create,
    new_subscription_id,
    quiet_client,
    renewals_sent,
    row,
    set_row,
)

A = auth(ADMIN)


@pytest.fixture
def api(settings, engine, clock):
    """(client, settings of its Redis namespace): renewal messages wait there, no worker takes them."""
    return quiet_client(settings, engine, clock)


def put(client, subscription_id, payload):
    return client.simulate_put(f"/v1/subscriptions/{subscription_id}", json=payload, headers=H)


def get(client, subscription_id):
    return client.simulate_get(f"/v1/subscriptions/{subscription_id}", headers=H)


def cancel(client, subscription_id):
    return client.simulate_post(f"/v1/subscriptions/{subscription_id}/cancel", headers=H)


def at(value):
    return datetime.fromisoformat(value)


def test_put_creates_then_updates_and_get_answers_the_same(api, engine, clock):
    client, _ = api
    sid = new_subscription_id()
    # 23:30 at -02:00 is 01:30 UTC the next day: the anchor is the day in UTC.
    created = put(client, sid, body(clock(), current_period_end="2031-01-31T23:30:00-02:00"))
    assert created.status_code == 201, created.json
    view = created.json
    assert view["subscription_id"] == sid and view["currency"] == "USD" and view["amount"] == 1299
    assert view["state"] == "active" and view["cancel_at_period_end"] is False
    assert view["next_attempt_at"] is None and view["dunning_step"] == 0 and view["charges"] == []
    assert at(view["current_period_end"]) == datetime(2031, 2, 1, 1, 30, tzinfo=UTC)
    assert row(engine, sid).anchor_day == 1
    assert get(client, sid).json == view

    clock.advance(60)
    updated = put(
        client,
        sid,
        body(
            clock(),
            email="grace@example.com",
            plan="premium-yearly",
            amount=9900,
            currency="eur",
            interval="year",
            gateway="stripe",
            customer_ref="cus_grace",
            payment_method_ref="pm_card_visa",
            current_period_end="2031-01-31T23:30:00-02:00",
        ),
    )
    assert updated.status_code == 200, updated.json
    changed = updated.json
    assert (changed["email"], changed["plan"], changed["amount"], changed["currency"]) == (
        "grace@example.com",
        "premium-yearly",
        9900,
        "EUR",
    )
    assert (changed["interval"], changed["gateway"], changed["customer_ref"]) == (
        "year",
        "stripe",
        "cus_grace",
    )
    assert changed["payment_method_ref"] == "pm_card_visa" and changed["state"] == "active"
    assert changed["created_at"] == view["created_at"] and at(changed["updated_at"]) == clock()
    assert get(client, sid).json == changed


BAD = [
    ("amount", 0),
    ("amount", -5),
    ("amount", "1299"),
    ("currency", "usd1"),
    ("interval", "week"),
    ("current_period_end", "2031-01-31T12:00:00"),  # naive: no offset
    ("current_period_end", "next month"),
    ("gateway", "paypal"),
    ("email", "not-an-email"),
    ("plan", ""),
    ("customer_ref", ""),
    ("payment_method_ref", "x" * 256),
]


@pytest.mark.parametrize(("field", "value"), BAD)
def test_a_bad_field_is_named_and_changes_nothing(api, engine, clock, field, value):
    client, _ = api
    sid = create(client, clock())
    before = get(client, sid).json
    answer = put(client, sid, {**body(clock(), plan="changed"), field: value})
    assert answer.status_code == 422, answer.json
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in [error["field"] for error in answer.json["errors"]]
    assert get(client, sid).json == before
    fresh = new_subscription_id()
    assert put(client, fresh, body(clock(), **{field: value})).status_code == 422
    assert get(client, fresh).status_code == 404  # nothing was created either


def test_missing_and_unknown_fields_are_named(api, clock):
    client, _ = api
    sid = new_subscription_id()
    payload = body(clock(), trial_days=7)
    del payload["plan"], payload["gateway"]
    answer = put(client, sid, payload)
    assert answer.status_code == 422
    assert {"plan", "gateway", "trial_days"} <= {error["field"] for error in answer.json["errors"]}
    assert get(client, sid).status_code == 404


def test_a_bad_id_is_422_naming_it(api, clock):
    client, _ = api
    answer = put(client, "has%20space", body(clock()))
    assert answer.status_code == 422 and answer.json["errors"][0]["field"] == "subscription_id"


def test_a_new_subscription_whose_period_already_ended_is_refused_and_nothing_is_stored(api, engine, clock):
    client, _ = api
    sid = new_subscription_id()
    past = (clock() - timedelta(days=40)).isoformat()
    answer = put(client, sid, body(clock(), current_period_end=past))
    assert answer.status_code == 422, answer.json
    assert [e["field"] for e in answer.json["errors"]] == ["current_period_end"]
    assert get(client, sid).status_code == 404
    assert put(client, sid, body(clock())).status_code == 201  # a future one is taken


def test_the_period_end_only_moves_later(api, engine, clock):
    client, _ = api
    end = datetime(2031, 3, 15, 12, tzinfo=UTC)
    sid = create(client, clock(), current_period_end=end.isoformat())
    for earlier_or_same in (end - timedelta(days=10), end):
        answer = put(client, sid, body(clock(), current_period_end=earlier_or_same.isoformat(), plan="p2"))
        assert answer.status_code == 200
        assert at(answer.json["current_period_end"]) == end  # ours, not theirs
        assert answer.json["plan"] == "p2"  # the rest of the update still applies
    assert row(engine, sid).anchor_day == 15
    later = datetime(2031, 4, 30, 12, tzinfo=UTC)
    answer = put(client, sid, body(clock(), current_period_end=later.isoformat()))
    assert at(answer.json["current_period_end"]) == later
    assert row(engine, sid).anchor_day == 30  # the anchor follows an extension


def test_a_past_due_subscriptions_period_is_not_extended_while_a_period_is_unpaid(api, engine, clock):
    client, _ = api
    end = datetime(2031, 3, 15, 12, tzinfo=UTC)
    sid = create(client, clock(), current_period_end=end.isoformat())
    set_row(engine, sid, state="past_due", dunning_step=1, next_attempt_at=clock() + timedelta(days=1))
    later = datetime(2031, 6, 15, 12, tzinfo=UTC)
    answer = put(client, sid, body(clock(), current_period_end=later.isoformat(), plan="p3"))
    assert answer.status_code == 200 and answer.json["plan"] == "p3"
    assert at(answer.json["current_period_end"]) == end  # the unpaid period stays where it is


def test_a_new_card_on_a_past_due_subscription_is_tried_at_once(api, engine, clock):
    client, quiet = api
    sid = create(client, clock(), payment_method_ref="pm_fake_decline")
    set_row(engine, sid, state="past_due", dunning_step=1, next_attempt_at=clock() + timedelta(days=3))
    same_card = put(client, sid, body(clock(), payment_method_ref="pm_fake_decline"))
    assert at(same_card.json["next_attempt_at"]) == clock() + timedelta(days=3)
    assert renewals_sent(quiet, sid) == 0
    clock.advance(30)
    answer = put(client, sid, body(clock(), payment_method_ref="pm_fake_ok"))
    assert answer.status_code == 200
    assert answer.json["state"] == "past_due" and at(answer.json["next_attempt_at"]) == clock()
    assert answer.json["dunning_step"] == 1
    assert renewals_sent(quiet, sid) == 1


def test_a_new_card_on_an_active_subscription_sends_nothing(api, clock):
    client, quiet = api
    sid = create(client, clock())
    answer = put(client, sid, body(clock(), payment_method_ref="pm_other"))
    assert answer.json["next_attempt_at"] is None and renewals_sent(quiet, sid) == 0


def test_a_cancelled_subscription_refuses_updates_and_a_lapsed_one_waits_for_a_new_card(api, engine, clock):
    client, quiet = api
    ended = create(client, clock())
    set_row(engine, ended, state="cancelled", cancelled_at=clock())
    before = get(client, ended).json
    refused = put(client, ended, body(clock(), plan="again"))
    assert refused.status_code == 409 and refused.json["type"].endswith("/subscription-ended")
    assert "needs a new id" in refused.json["detail"]
    assert get(client, ended).json == before

    lapsed = create(client, clock())
    set_row(engine, lapsed, state="lapsed", lapsed_at=clock())
    answer = put(client, lapsed, body(clock(), plan="again"))
    assert answer.status_code == 200 and answer.json["plan"] == "again"
    assert answer.json["state"] == "lapsed" and answer.json["next_attempt_at"] is None
    assert renewals_sent(quiet, lapsed) == 0
    # A new card (the customer followed the lapsed email's link): one more attempt, at once.
    answer = put(client, lapsed, body(clock(), plan="again", payment_method_ref="pm_new"))
    assert answer.json["state"] == "past_due" and at(answer.json["next_attempt_at"]) == clock()
    assert row(engine, lapsed).lapsed_at is None
    assert renewals_sent(quiet, lapsed) == 1


def test_cancel_ends_an_active_one_at_its_period_end_and_is_idempotent(api, engine, clock):
    client, _ = api
    sid = create(client, clock())
    first = cancel(client, sid)
    assert first.status_code == 200
    assert first.json["state"] == "active" and first.json["cancel_at_period_end"] is True
    clock.advance(60)
    again = cancel(client, sid)
    assert again.status_code == 200 and again.json == first.json  # nothing changed, not even updated_at
    assert row(engine, sid).cancelled_at is None


@pytest.mark.parametrize("state", ["past_due", "lapsed"])
def test_cancel_stops_dunning_now(api, engine, clock, state):
    client, _ = api
    sid = create(client, clock())
    set_row(engine, sid, state=state, dunning_step=2, next_attempt_at=clock() + timedelta(days=1))
    answer = cancel(client, sid)
    assert answer.status_code == 200
    assert answer.json["state"] == "cancelled" and answer.json["next_attempt_at"] is None
    assert row(engine, sid).cancelled_at == clock()
    clock.advance(60)
    assert cancel(client, sid).json == answer.json


def test_unknown_subscriptions_are_404_problems(api):
    client, _ = api
    for answer in (get(client, "sub-nobody"), cancel(client, "sub-nobody")):
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json["type"].endswith("/subscription-not-found")


def test_the_view_shows_charges_newest_first_with_their_attempts(api, engine, clock):
    client, _ = api
    sid = create(client, clock())
    t0 = datetime(2031, 1, 1, tzinfo=UTC)
    t1, t2 = datetime(2031, 2, 1, tzinfo=UTC), datetime(2031, 3, 1, tzinfo=UTC)
    add_charge(
        engine,
        sid,
        t0,
        t1,
        state="succeeded",
        reference="pi_1",
        attempts=({"state": "succeeded", "at": t0, "reference": "pi_1"},),
    )
    add_charge(
        engine,
        sid,
        t1,
        t2,
        attempts=(
            {
                "state": "declined",
                "at": t1,
                "reference": "pi_2",
                "code": "card_declined",
                "message": "Your card was declined.",
            },
            {"state": "started", "at": t1 + timedelta(days=1), "reference": "pi_3"},
        ),
    )
    charges = get(client, sid).json["charges"]
    assert [at(c["period_start"]) for c in charges] == [t1, t0]
    newest, oldest = charges
    assert (newest["state"], newest["failures"], newest["amount"], newest["currency"]) == (
        "pending",
        1,
        1299,
        "USD",
    )
    assert [(a["number"], a["state"], a["gateway_reference"]) for a in newest["attempts"]] == [
        (1, "declined", "pi_2"),
        (2, "started", "pi_3"),
    ]
    declined = newest["attempts"][0]
    assert (
        declined["decline_code"] == "card_declined"
        and declined["decline_message"] == "Your card was declined."
    )
    assert newest["attempts"][1]["finished_at"] is None
    assert oldest["state"] == "succeeded" and oldest["gateway_reference"] == "pi_1"
    assert at(oldest["period_end"]) == t1 and len(oldest["attempts"]) == 1


def admin_list(client, token=ADMIN, **params):
    return client.simulate_get("/v1/admin/subscriptions", params=params, headers=auth(token))


def test_operators_list_past_due_and_lapsed_with_the_last_decline(api, engine, clock):
    client, _ = api
    active, past_due, lapsed = (create(client, clock()) for _ in range(3))
    set_row(engine, past_due, state="past_due", dunning_step=2, next_attempt_at=clock() + timedelta(days=2))
    set_row(engine, lapsed, state="lapsed", dunning_step=5, lapsed_at=clock())
    t0 = datetime(2031, 1, 1, tzinfo=UTC)
    add_charge(
        engine,
        past_due,
        t0,
        t0 + timedelta(days=31),
        attempts=(
            {"state": "declined", "at": t0, "code": "insufficient_funds", "message": "older"},
            {"state": "declined", "at": t0 + timedelta(days=1), "code": "card_declined", "message": "newest"},
        ),
    )
    both = {item["subscription_id"]: item for item in admin_list(client, limit=500).json["items"]}
    assert active not in both and {past_due, lapsed} <= set(both)
    row_ = both[past_due]
    assert row_["state"] == "past_due" and row_["dunning_step"] == 2 and row_["amount"] == 1299
    assert row_["last_decline"] == {"code": "card_declined", "message": "newest"}
    assert at(row_["next_attempt_at"]) == clock() + timedelta(days=2)
    assert both[lapsed]["last_decline"] is None and both[lapsed]["next_attempt_at"] is None
    only = {item["subscription_id"] for item in admin_list(client, state="lapsed", limit=500).json["items"]}
    assert lapsed in only and past_due not in only
    page = admin_list(client, limit=1).json
    assert len(page["items"]) == 1 and page["next_offset"] == 1


def test_the_list_refuses_a_bad_state_and_other_tokens(api):
    client, _ = api
    bad = admin_list(client, state="active")
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "state"
    assert admin_list(client, token=STOREFRONT).status_code == 401
    assert client.simulate_get("/v1/admin/subscriptions").status_code == 401


def retry(client, subscription_id):
    return client.simulate_post(f"/v1/admin/subscriptions/{subscription_id}/retry", headers=A)


def test_retry_tries_a_past_due_or_lapsed_card_now_and_refuses_the_rest(api, engine, clock):
    client, quiet = api
    past_due, lapsed, active = (create(client, clock()) for _ in range(3))
    set_row(engine, past_due, state="past_due", dunning_step=1, next_attempt_at=clock() + timedelta(days=1))
    set_row(engine, lapsed, state="lapsed", dunning_step=5, lapsed_at=clock())
    clock.advance(5)
    answer = retry(client, past_due)
    assert answer.status_code == 200 and answer.json["state"] == "past_due"
    assert at(answer.json["next_attempt_at"]) == clock() and renewals_sent(quiet, past_due) == 1
    revived = retry(client, lapsed)
    assert revived.json["state"] == "past_due" and at(revived.json["next_attempt_at"]) == clock()
    assert row(engine, lapsed).lapsed_at is None and revived.json["dunning_step"] == 5
    assert renewals_sent(quiet, lapsed) == 1
    refused = retry(client, active)
    assert refused.status_code == 409 and refused.json["type"].endswith("/subscription-not-retryable")
    assert renewals_sent(quiet, active) == 0
    assert retry(client, "sub-nobody").status_code == 404
