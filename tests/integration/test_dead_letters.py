"""Failed jobs on a real worker land in the ledger; on-call finds, replays (once) and purges them."""

import threading
import time
import uuid
from collections import Counter

import dramatiq
import pytest
from sqlalchemy import text

from core.errors import PermanentError
from db.engine import transaction
from tests.conftest import ADMIN, auth
from tests.support.dead_letters import dead_letter_service, insert_dead_letter
from tests.support.test_broker import on_rabbitmq
from tests.support.waiting import wait_for
from worker.database import database
from worker.ledger_recovery import sweep_dead_letters
from worker.queue_stats import queue_stats

A = {**auth(ADMIN), "X-Operator": "oncall@example.com"}
SWITCH: set[str] = set()  # tokens whose job now succeeds
DELIVERED: Counter[str] = Counter()
LOCK = threading.Lock()


@pytest.fixture(scope="session")
def flaky(broker, worker):
    """An actor that fails (a transient error) until its token's switch is flipped."""

    def flaky_job(token: str, permanent: bool = False) -> None:
        if permanent:
            raise PermanentError(f"422 from provider for {token}")
        if token not in SWITCH:
            raise ConnectionError(f"provider down for {token}")
        with LOCK:
            DELIVERED[token] += 1

    actor = dramatiq.actor(
        flaky_job,
        actor_name="tests.flaky",
        queue_name="tests",
        broker=broker,
        max_retries=2,
        min_backoff=10,
        max_backoff=20,
    )
    worker.consumers  # noqa: B018  (the session worker picks the new queue up on its next poll)
    broker.declare_queue("tests")
    return actor


@pytest.fixture(autouse=True)
def _consume_tests_queue(broker, worker):
    # Declaring the queue is enough, even after the worker started: the worker adds a consumer for
    # every queue declared on its broker (replays of the test entries land there).
    broker.declare_queue("tests")
    assert "tests" in worker.consumers


def dead_letter(engine, token):
    with transaction(engine) as s:
        return (
            s.execute(
                text("SELECT * FROM dead_letter WHERE args::text LIKE :t ORDER BY id DESC LIMIT 1"),
                {"t": f'%"{token}"%'},
            )
            .mappings()
            .one_or_none()
        )


def wait_dead(engine, token):
    return wait_for(lambda: dead_letter(engine, token), timeout=30, what=f"dead letter for {token}")


@pytest.mark.broker
def test_out_of_retries_lands_in_the_ledger_with_its_traceback(flaky, engine, broker):
    token = uuid.uuid4().hex
    message = flaky.send(token)
    entry = wait_dead(engine, token)
    assert entry["message_id"] == message.message_id
    assert entry["actor"] == "tests.flaky" and entry["queue"] == "tests"
    assert entry["attempts"] == 3 and entry["state"] == "dead"
    assert entry["exception_type"] == "ConnectionError" and token in entry["exception_message"]
    assert "flaky_job" in entry["traceback"] and "provider down" in entry["traceback"]
    assert entry["first_failed_at"] < entry["last_failed_at"]
    assert len(entry["fingerprint"]) == 12 and entry["origin"].endswith(":flaky_job")
    if on_rabbitmq():  # RabbitMQ dead-letters it into tests.XQ; the reconciler's sweep drops it
        wait_for(lambda: queue_stats(broker, ["tests"])[0].dead_in_broker >= 1, what="the XQ to hold it")
        assert sweep_dead_letters(broker, database(broker), ["tests"]) == 0  # held already: not again
    # Out of the broker's own dead-letter store: the ledger is the only one.
    wait_for(lambda: queue_stats(broker, ["tests"])[0].dead_in_broker == 0, what="the XQ emptied")


@pytest.mark.broker
def test_a_permanent_error_is_dead_lettered_after_one_attempt(flaky, engine):
    token = uuid.uuid4().hex
    flaky.send(token, True)
    entry = wait_dead(engine, token)
    assert entry["attempts"] == 1 and entry["exception_type"] == "core.errors.PermanentError"


@pytest.mark.broker
def test_replay_delivers_once_and_a_second_replay_needs_force(flaky, engine, client):
    token = uuid.uuid4().hex
    flaky.send(token)
    entry = wait_dead(engine, token)
    SWITCH.add(token)
    first = client.simulate_post(
        f"/v1/admin/dead-letters/{entry['id']}/replay", headers=A, json={"reason": "provider is back"}
    )
    assert first.status_code == 202
    wait_for(lambda: DELIVERED[token] == 1, what="replayed job delivered")
    again = client.simulate_post(f"/v1/admin/dead-letters/{entry['id']}/replay", headers=A)
    assert again.status_code == 409 and again.json["type"].endswith("/already-replayed")
    shown = client.simulate_get(f"/v1/admin/dead-letters/{entry['id']}", headers=A).json
    assert shown["state"] == "replayed" and "provider down" in shown["traceback"]
    assert [(h["action"], h["performed_by"], h["reason"], h["new_message_id"]) for h in shown["history"]] == [
        ("replay", "api:oncall@example.com", "provider is back", first.json["message_id"])
    ]
    forced = client.simulate_post(
        f"/v1/admin/dead-letters/{entry['id']}/replay", headers=A, json={"force": True}
    )
    assert forced.status_code == 202
    wait_for(lambda: DELIVERED[token] == 2, what="forced replay delivered")


@pytest.mark.broker
def test_bulk_replay_by_fingerprint_dry_run_then_for_real(flaky, engine, client):
    tokens = [f"bulk-{uuid.uuid4().hex}" for _ in range(3)]
    for token in tokens:
        flaky.send(token)
    entries = [wait_dead(engine, t) for t in tokens]
    fingerprint = entries[0]["fingerprint"]
    assert {e["fingerprint"] for e in entries} == {fingerprint}
    ids = {e["id"] for e in entries}
    listed = client.simulate_get(
        "/v1/admin/dead-letters",
        headers=A,
        params={"fingerprint": fingerprint, "state": "dead", "limit": 500},
    ).json
    assert ids <= {i["id"] for i in listed["items"]}
    body = {"filter": {"fingerprint": fingerprint}, "dry_run": True}
    preview = client.simulate_post("/v1/admin/dead-letters/replay", headers=A, json=body).json
    assert preview["dry_run"] is True and preview["matched"] >= 3 and preview["sample"]
    assert all(DELIVERED[t] == 0 for t in tokens)
    SWITCH.update(tokens)
    done = client.simulate_post(
        "/v1/admin/dead-letters/replay", headers=A, json={**body, "dry_run": False, "reason": "outage over"}
    ).json
    assert done["replayed"] >= 3
    wait_for(lambda: all(DELIVERED[t] == 1 for t in tokens), what="bulk replays delivered")
    # A second run finds nothing left in state dead for that group.
    assert (
        client.simulate_post(
            "/v1/admin/dead-letters/replay", headers=A, json={**body, "dry_run": False}
        ).json["replayed"]
        == 0
    )


def test_groups_count_by_fingerprint(flaky, engine, client):
    token = uuid.uuid4().hex
    flaky.send(token, True)
    entry = wait_dead(engine, token)
    groups = client.simulate_get(
        "/v1/admin/dead-letters/groups", headers=A, params={"actor": "tests.flaky"}
    ).json
    mine = [g for g in groups["groups"] if g["fingerprint"] == entry["fingerprint"]]
    assert mine and mine[0]["count"] >= 1 and mine[0]["exception_type"] == "core.errors.PermanentError"


def test_purge_one_and_by_filter_with_audit(flaky, engine, client):
    tokens = [f"purge-{uuid.uuid4().hex}" for _ in range(2)]
    for token in tokens:
        flaky.send(token, True)
    first, second = (wait_dead(engine, t) for t in tokens)
    assert client.simulate_delete(f"/v1/admin/dead-letters/{first['id']}", headers=A).status_code == 200
    assert client.simulate_get(f"/v1/admin/dead-letters/{first['id']}", headers=A).status_code == 404
    since = second["last_failed_at"].isoformat()
    body = {"filter": {"actor": "tests.flaky", "since": since}, "dry_run": True}
    assert client.simulate_post("/v1/admin/dead-letters/purge", headers=A, json=body).json["matched"] >= 1
    assert dead_letter(engine, tokens[1]) is not None
    purged = client.simulate_post("/v1/admin/dead-letters/purge", headers=A, json={**body, "dry_run": False})
    assert purged.json["purged"] >= 1 and dead_letter(engine, tokens[1]) is None
    with transaction(engine) as s:
        audit = s.execute(
            text("SELECT action, performed_by FROM dead_letter_action WHERE message_id IN (:a, :b)"),
            {"a": first["message_id"], "b": second["message_id"]},
        ).all()
    assert sorted(audit) == [("purge", "api:oncall@example.com")] * 2


def test_bulk_operations_need_a_filter_and_bad_filters_name_the_field(client):
    empty = client.simulate_post("/v1/admin/dead-letters/purge", headers=A, json={"filter": {}})
    assert empty.status_code == 422 and empty.json["errors"][0]["field"] == "filter"
    bad = client.simulate_get("/v1/admin/dead-letters", headers=A, params={"since": "yesterday"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "since"
    assert client.simulate_get("/v1/admin/dead-letters", headers=auth("nope")).status_code == 401
    assert client.simulate_get("/v1/admin/dead-letters/999999999", headers=A).status_code == 404


def test_queue_stats_read_depth_and_oldest_age_from_redis(settings):
    from tests.conftest import make_settings
    from worker.broker import build_broker
    from worker.queue_stats import queue_stats

    idle = build_broker(make_settings(settings.database_url, settings.redis_url))  # no worker consumes it
    ten_minutes_ago = int(time.time() * 1000) - 600_000
    for _ in range(2):
        idle.enqueue(
            dramatiq.Message(
                queue_name="email",
                actor_name="email.send",
                args=(0,),
                kwargs={},
                options={},
                message_timestamp=ten_minutes_ago,
            )
        )
    idle.enqueue(
        dramatiq.Message(queue_name="email", actor_name="email.send", args=(0,), kwargs={}, options={}),
        delay=60_000,
    )
    (email,) = queue_stats(idle, ["email"])
    assert (email.ready, email.delayed, email.in_flight) == (2, 1, 0)
    assert 600 <= email.oldest_age_seconds < 700


@pytest.mark.broker
def test_queues_route_lists_every_queue(client):
    table = client.simulate_get("/v1/admin/queues", headers=A).json["queues"]
    assert {"stock", "webhooks", "email", "reconcile"} <= {row["queue"] for row in table}
    for row in table:
        assert {"ready", "delayed", "in_flight", "dead", "dead_in_redis", "oldest_age_seconds"} <= set(row)


def test_schedules_show_trigger_next_run_and_recent_runs(client):
    rows = {r["job"]: r for r in client.simulate_get("/v1/admin/schedules", headers=A).json["schedules"]}
    assert rows["reconcile"]["trigger"] == "every 1m" and rows["reconcile"]["paused"] is False
    assert (
        rows["stock-cleanup"]["next_run"] > rows["stock-cleanup"]["recent_runs"][0]["scheduled_for"]
        if rows["stock-cleanup"]["recent_runs"]
        else True
    )


# Retention of dead letters (archived to S3, then purged with an audit row) moved to
# tests/integration/test_retention.py (test_dead_letters_past_retention_are_archived_...).


@pytest.mark.broker
def test_metrics_count_dead_letters_by_actor_and_replays(flaky, engine, client):
    token = uuid.uuid4().hex
    flaky.send(token, True)
    wait_dead(engine, token)
    text_ = client.simulate_get("/metrics").text
    assert 'backroom_dead_letters{actor="tests.flaky"}' in text_
    assert "backroom_dead_letter_replays_total" in text_
    assert 'backroom_queue_depth{kind="ready",queue="webhooks"}' in text_
    if not on_rabbitmq():  # RabbitMQ's AMQP side cannot tell what is unacked: no such gauge there
        assert 'backroom_queue_oldest_age_seconds{queue="webhooks"}' in text_
        assert 'backroom_queue_depth{kind="in_flight",queue="webhooks"}' in text_


def test_dead_letters_left_in_redis_while_postgres_was_down_are_recovered(engine, broker, worker):
    from worker.messages import enqueue

    trace = (
        'Traceback (most recent call last):\n  File "/srv/app/jobs/email.py", line 40, in send\n'
        "    raise TimeoutError('resend timed out')\nTimeoutError: resend timed out\n"
    )
    message = dramatiq.Message(
        queue_name="email",
        actor_name="email.send",
        args=(424242,),
        kwargs={},
        options={"retries": 10, "traceback": trace, "redis_message_id": "r-1"},
    )
    xqueue = f"{broker.namespace}:email.XQ"
    broker.client.zadd(xqueue, {"r-1": 1})
    broker.client.hset(f"{xqueue}.msgs", "r-1", message.encode())
    enqueue(broker, "reconcile")

    def recorded():
        with transaction(engine) as s:
            return (
                s.execute(text("SELECT * FROM dead_letter WHERE message_id = :m"), {"m": message.message_id})
                .mappings()
                .one_or_none()
            )

    entry = wait_for(recorded, what="the Redis dead letter in the ledger")
    assert entry["exception_type"] == "TimeoutError" and entry["origin"] == "jobs/email.py:send"
    assert entry["attempts"] == 10 and entry["args"] == [424242]
    assert broker.client.zcard(xqueue) == 0 and broker.client.hlen(f"{xqueue}.msgs") == 0


def test_a_replay_that_cannot_be_sent_is_undone(engine, settings):
    from db.queries import dead_letters as q
    from tests.conftest import make_settings
    from worker.broker import build_broker

    entry_id = insert_dead_letter(engine, actor="tests.flaky", args=[uuid.uuid4().hex])
    redis_down = build_broker(make_settings(settings.database_url, "redis://127.0.0.1:1/0"))
    with pytest.raises(Exception):  # noqa: B017  (whatever the Redis client raises)
        dead_letter_service(engine, redis_down).replay(entry_id, by="test")
    with transaction(engine) as s:
        row = q.get(s, entry_id)
        assert row["state"] == "dead" and row["replay_count"] == 0
        assert q.history(s, entry_id) == []


def test_a_dead_letter_whose_arguments_are_not_an_id_is_replayed_and_purged_without_a_500(
    engine, broker, client
):
    """Found by the OpenAPI fuzzer's bulk replay: `email.send("someone@example.com")` (a malformed
    message in the ledger) made every replay and purge matching it answer 500."""
    odd = insert_dead_letter(engine, actor="email.send", queue="email", args=["someone@example.com"])
    dead_letter_service(engine, broker).replay(odd, by="test")
    purged = insert_dead_letter(engine, actor="email.send", queue="email", args=["not-an-id"])
    answer = client.simulate_delete(f"/v1/admin/dead-letters/{purged}", headers=auth(ADMIN))
    assert answer.status_code == 200, answer.json
