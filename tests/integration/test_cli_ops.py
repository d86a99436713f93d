"""`backroom dlq ...` and `backroom queues` against the real database and Redis."""

import json
import uuid

from tests.support.dead_letters import insert_dead_letter


def _entry(engine, fingerprint):
    return insert_dead_letter(
        engine,
        queue="cli-tests",
        actor="tests.cli",
        args=[1],
        options={"max_retries": 3},
        attempts=4,
        exception_message="read timed out",
        fingerprint=fingerprint,
        traceback="Traceback ...\nTimeoutError: read timed out",
    )


def test_list_show_and_stats(cli, engine):
    fingerprint = uuid.uuid4().hex[:12]
    entry_id = _entry(engine, fingerprint)
    code, out = cli("dlq", "list", "--fingerprint", fingerprint, "--json")
    assert code == 0 and [row["id"] for row in json.loads(out.out)] == [entry_id]
    code, out = cli("dlq", "list", "--fingerprint", fingerprint)
    assert "TimeoutError" in out.out and out.out.splitlines()[0].startswith("id")
    code, out = cli("dlq", "show", str(entry_id))
    assert json.loads(out.out)["traceback"].endswith("read timed out")
    code, out = cli("dlq", "stats", "--fingerprint", fingerprint, "--json")
    assert json.loads(out.out)[0]["count"] == 1


def test_replay_one_records_who_and_refuses_a_second(cli, engine, broker):
    entry_id = _entry(engine, uuid.uuid4().hex[:12])
    before = broker.client.llen(f"{broker.namespace}:cli-tests")
    code, out = cli("dlq", "replay", str(entry_id), "--reason", "retry after fix")
    assert code == 0 and len(out.out.strip()) == 36
    assert broker.client.llen(f"{broker.namespace}:cli-tests") == before + 1
    code, out = cli("dlq", "replay", str(entry_id))
    assert code == 1 and "--force" in out.err
    code, out = cli("dlq", "show", str(entry_id))
    history = json.loads(out.out)["history"]
    assert history[0]["performed_by"].startswith("cli:") and history[0]["reason"] == "retry after fix"


def test_bulk_needs_a_filter_dry_runs_and_needs_yes_off_a_terminal(cli, engine):
    fingerprint = uuid.uuid4().hex[:12]
    for _ in range(3):
        _entry(engine, fingerprint)
    assert cli("dlq", "purge")[0] == 2
    code, out = cli("dlq", "purge", "--fingerprint", fingerprint, "--dry-run", "--json")
    assert json.loads(out.out)["matched"] == 3
    code, out = cli("dlq", "purge", "--fingerprint", fingerprint)  # stdin is not a terminal under pytest
    assert code == 1 and "--yes" in out.err
    code, out = cli("dlq", "purge", "--fingerprint", fingerprint, "--yes", "--reason", "known bug")
    assert code == 0 and json.loads(out.out) == {"purged": 3}
    assert json.loads(cli("dlq", "list", "--fingerprint", fingerprint, "--json")[1].out) == []


def test_queues_prints_the_table(cli):
    code, out = cli("queues")
    assert code == 0
    assert out.out.splitlines()[0].split()[:4] == ["queue", "ready", "delayed", "in_flight"]
    assert any(line.startswith("webhooks") for line in out.out.splitlines())


def test_unknown_entries_and_jobs_are_the_services_not_found_errors(cli):
    code, out = cli("dlq", "show", "999999999")
    assert code == 3 and out.err.strip() == "backroom: No dead letter 999999999."
    code, out = cli("jobs", "run", "no-such-job")
    assert code == 3 and "No recurring job 'no-such-job'; known: " in out.err
