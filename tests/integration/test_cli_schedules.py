"""`backroom schedules list|pause|resume|run` against the real database and Redis."""

import getpass
import json

import pytest
from sqlalchemy import text

from core.schedule_table import schedule_table
from db.engine import transaction

JOB = "retention"  # a run of it by hand with no bucket configured archives and deletes nothing


@pytest.fixture
def job(engine):
    """The job's operator state and audit start and end empty: no other test finds it paused."""

    def forget():
        with transaction(engine) as session:
            session.execute(text("DELETE FROM schedule_state WHERE job_name = :j"), {"j": JOB})
            session.execute(text("DELETE FROM schedule_action WHERE job_name = :j"), {"j": JOB})

    forget()
    yield JOB
    forget()


def audit(engine):
    with transaction(engine) as session:
        return session.execute(
            text("SELECT action, by, reason FROM schedule_action WHERE job_name = :j ORDER BY id"), {"j": JOB}
        ).all()


def listed(cli):
    code, out = cli("schedules", "list", "--json")
    assert code == 0, out.err
    return {row["job"]: row for row in json.loads(out.out)}


def test_list_prints_every_recurring_job_as_a_table_or_json(cli, settings, job):
    code, out = cli("schedules", "list")
    assert code == 0, out.err
    header, *lines = out.out.splitlines()
    assert header.split() == ["job", "trigger", "paused", "next_run", "last_success", "overdue", "last_run"]
    assert [line.split()[0] for line in lines] == [s.job for s in schedule_table(settings)]
    retention = next(line for line in lines if line.startswith(job))
    assert "0 3 * * *" in retention and " no " in retention
    row = listed(cli)[job]
    assert row["trigger"] == "cron 0 3 * * * (UTC)"
    assert row["paused"] is False and row["next_run"].endswith("+00:00")
    assert {"last_success", "overdue", "recent_runs", "timezone", "misfire"} <= row.keys()


def test_pause_and_resume_are_shown_and_audited_with_who_and_why(cli, engine, job):
    code, out = cli("schedules", "pause", job, "--reason", "disk full", "--by", "ada")
    assert code == 0 and out.out.strip() == f"paused {job}"
    row = listed(cli)[job]
    assert (row["paused"], row["paused_by"], row["paused_reason"]) == (True, "ada", "disk full")
    assert row["next_run"] is None
    line = next(x for x in cli("schedules", "list")[1].out.splitlines() if x.startswith(job))
    assert "yes (by ada: disk full)" in line
    code, out = cli("schedules", "resume", job)  # --by defaults to the OS user
    assert code == 0 and out.out.strip() == f"resumed {job}"
    assert listed(cli)[job]["paused"] is False
    assert [tuple(a) for a in audit(engine)] == [
        ("pause", "ada", "disk full"),
        ("resume", f"cli:{getpass.getuser()}", None),
    ]


def test_run_prints_the_message_id_of_a_manual_run_even_while_paused(cli, engine, job):
    assert cli("schedules", "pause", job, "--by", "ada")[0] == 0
    code, out = cli("schedules", "run", job, "--by", "ada", "--reason", "by hand")
    assert code == 0, out.err
    message_id = out.out.strip()
    assert len(message_id) == 36
    with transaction(engine) as session:
        run = session.execute(
            text("SELECT fired_by, state FROM schedule_run WHERE message_id = :m"), {"m": message_id}
        ).one()
    assert run.fired_by == "manual:ada" and run.state in ("sent", "running", "succeeded")
    assert audit(engine)[-1] == ("run", "ada", "by hand")
    assert listed(cli)[job]["recent_runs"][0]["message_id"] == message_id


def test_an_unknown_job_is_the_services_not_found_error(cli):
    for action in ("pause", "resume", "run"):
        code, out = cli("schedules", action, "no-such-job")
        assert code == 3, (action, out.err)
        # The last line: a job the session's worker runs meanwhile may log before it.
        last = out.err.strip().splitlines()[-1]
        assert last.startswith("backroom: No recurring job 'no-such-job'; known: stock-cleanup")
        assert out.out == ""
