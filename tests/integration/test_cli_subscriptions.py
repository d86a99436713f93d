"""`backroom subscriptions list|show|retry` against the real database: a table and a readable view
for people, JSON for scripts, and the error tree's exit codes (3 not found, 4 conflict)."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.storefront_subscriptions import (
    add_charge,
    create,
    quiet_client,
    renewals_sent,
    row,
    set_row,
)


@pytest.fixture
def quiet(settings, engine, clock, monkeypatch, cli):
    """A client to create subscriptions, and the CLI sending to a Redis namespace no worker reads
    (set after the `cli` fixture's own environment): (client, settings of that namespace)."""
    client, _ = quiet_client(settings, engine, clock)
    namespace = f"brtest-subcli-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("REDIS_NAMESPACE", namespace)
    return client, settings.model_copy(update={"redis_namespace": namespace})


def stuck(client, engine, clock, state, **columns):
    sid = create(client, clock(), plan="premium-monthly")
    set_row(engine, sid, state=state, **columns)
    return sid


def test_list_shows_past_due_and_lapsed_with_the_last_decline(cli, quiet, engine, clock):
    client, _ = quiet
    past_due = stuck(client, engine, clock, "past_due", dunning_step=2, next_attempt_at=clock())
    lapsed = stuck(client, engine, clock, "lapsed", dunning_step=5)
    active = create(client, clock())
    start = datetime(2031, 1, 1, tzinfo=UTC)
    attempt = {
        "state": "declined",
        "at": start,
        "code": "card_declined",
        "message": "Your card\nwas declined.",
    }
    add_charge(engine, past_due, start, start + timedelta(days=31), attempts=(attempt,))
    code, out = cli("subscriptions", "list", "--limit", "500")
    assert code == 0
    header, *rows = out.out.splitlines()
    assert header.split() == [
        "subscription",
        "state",
        "step",
        "next_attempt",
        "period_end",
        "amount",
        "plan",
        "last_decline",
    ]
    mine = next(r for r in rows if past_due in r)
    assert "past_due" in mine and "1299 USD" in mine
    assert "card_declined: Your card was declined." in mine  # one line per subscription
    assert any(lapsed in r for r in rows) and not any(active in r for r in rows)
    code, out = cli("subscriptions", "list", "--state", "lapsed", "--json", "--limit", "500")
    items = {item["subscription_id"]: item for item in json.loads(out.out)}
    assert code == 0 and lapsed in items and past_due not in items
    assert items[lapsed]["dunning_step"] == 5 and items[lapsed]["last_decline"] is None


def test_show_reads_the_subscription_and_its_charges(cli, quiet, engine, clock):
    client, _ = quiet
    sid = stuck(client, engine, clock, "past_due", dunning_step=1)
    start = datetime(2031, 1, 1, tzinfo=UTC)
    add_charge(
        engine,
        sid,
        start,
        start + timedelta(days=31),
        attempts=({"state": "declined", "at": start, "reference": "pi_9", "code": "card_declined"},),
    )
    code, out = cli("subscriptions", "show", sid)
    assert code == 0
    text = out.out
    assert f"subscription  {sid}" in text and "state         past_due" in text
    assert "1299 USD a month" in text and "2031-01-01 00:00:00 -> 2031-02-01 00:00:00  pending" in text
    assert "#1 declined" in text and "pi_9" in text and "card_declined" in text
    code, out = cli("subscriptions", "show", sid, "--json")
    assert code == 0 and json.loads(out.out)["charges"][0]["attempts"][0]["gateway_reference"] == "pi_9"


def test_retry_tries_now_and_exits_by_the_error_tree(cli, quiet, engine, clock):
    client, sent_to = quiet
    past_due = stuck(
        client, engine, clock, "past_due", dunning_step=1, next_attempt_at=clock() + timedelta(days=1)
    )
    lapsed = stuck(client, engine, clock, "lapsed", dunning_step=5, lapsed_at=clock())
    active = create(client, clock())
    before = datetime.now(UTC)
    code, out = cli("subscriptions", "retry", past_due)
    assert code == 0 and f"{past_due}: past_due" in out.out
    assert before <= row(engine, past_due).next_attempt_at <= datetime.now(UTC)
    assert renewals_sent(sent_to, past_due) == 1
    code, out = cli("subscriptions", "retry", lapsed)
    assert code == 0 and row(engine, lapsed).state == "past_due" and row(engine, lapsed).lapsed_at is None
    assert renewals_sent(sent_to, lapsed) == 1
    code, out = cli("subscriptions", "retry", active)
    assert code == 4 and "active" in out.err and renewals_sent(sent_to, active) == 0
    code, out = cli("subscriptions", "retry", "sub-nobody")
    assert code == 3 and "sub-nobody" in out.err
    code, out = cli("subscriptions", "show", "sub-nobody")
    assert code == 3


@pytest.mark.parametrize("argv", [["list", "--state", "active"], ["list", "--limit", "0"], ["retry"]])
def test_bad_options_are_refused(cli, argv):
    with pytest.raises(SystemExit) as exit_:
        cli("subscriptions", *argv)
    assert exit_.value.code == 2
