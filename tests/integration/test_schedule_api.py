"""POST /v1/admin/schedules/{job}/pause and /resume: audited with the operator and the reason,
answered with the job's row; a bad body is a 422 naming the field, an unknown job a 404."""

import pytest

from tests.conftest import ADMIN, auth
from tests.support.schedule_rows import actions, clear_schedules

JOB = "stock-cleanup"
ADMIN_H = auth(ADMIN)


@pytest.fixture(autouse=True)
def clean(engine):
    clear_schedules(engine)
    yield
    clear_schedules(engine)


def test_pause_and_resume_answer_the_row_and_are_audited(client, engine, clock):
    paused = client.simulate_post(
        f"/v1/admin/schedules/{JOB}/pause",
        json={"reason": "supplier sync broken"},
        headers={**ADMIN_H, "X-Operator": "ada@example.com"},
    )
    assert paused.status_code == 200, paused.text
    row = paused.json
    assert row["job"] == JOB and row["paused"] is True and row["next_run"] is None
    assert row["paused_by"] == "api:ada@example.com" and row["paused_reason"] == "supplier sync broken"
    assert row["paused_at"].startswith(clock().isoformat()[:19])
    listed = client.simulate_get("/v1/admin/schedules", headers=ADMIN_H).json["schedules"]
    assert [s["paused"] for s in listed if s["job"] == JOB] == [True]
    assert all(not s["paused"] for s in listed if s["job"] != JOB)  # only that job

    # Pausing again changes nothing and audits nothing.
    again = client.simulate_post(f"/v1/admin/schedules/{JOB}/pause", headers=ADMIN_H)
    assert again.status_code == 200 and again.json["paused_by"] == "api:ada@example.com"

    resumed = client.simulate_post(
        f"/v1/admin/schedules/{JOB}/resume", headers=ADMIN_H
    )  # no body, no X-Operator: the client address is the operator
    assert resumed.status_code == 200, resumed.text
    assert resumed.json["paused"] is False and resumed.json["paused_by"] is None
    assert resumed.json["next_run"] is not None
    audit = actions(engine, JOB)
    assert [(a, by) for a, by, _ in audit] == [("pause", "api:ada@example.com"), ("resume", audit[1][1])]
    assert audit[0][2] == "supplier sync broken" and audit[1][1].startswith("api:") and audit[1][2] is None


def test_a_bad_body_is_a_422_naming_the_field_and_changes_nothing(client, engine):
    for body, field in (({"reason": "x" * 501}, "reason"), ({"reason": 5}, "reason"), ({"why": "x"}, "why")):
        answer = client.simulate_post(f"/v1/admin/schedules/{JOB}/pause", json=body, headers=ADMIN_H)
        assert answer.status_code == 422, (body, answer.text)
        assert [e["field"] for e in answer.json["errors"]] == [field], answer.json
    assert actions(engine, JOB) == []
    listed = client.simulate_get("/v1/admin/schedules", headers=ADMIN_H).json["schedules"]
    assert not any(s["paused"] for s in listed)


def test_an_unknown_job_is_a_404_problem(client, engine):
    for action in ("pause", "resume"):
        answer = client.simulate_post(
            f"/v1/admin/schedules/no-such-job/{action}", json={"reason": "x"}, headers=ADMIN_H
        )
        assert answer.status_code == 404, answer.text
        assert (
            answer.json["type"].endswith("/schedule-not-found") and "stock-cleanup" in answer.json["detail"]
        )
    assert actions(engine, "no-such-job") == []


def test_the_routes_take_the_admin_token_only(client):
    for headers in ({}, auth("wrong-token")):
        assert client.simulate_post(f"/v1/admin/schedules/{JOB}/pause", headers=headers).status_code == 401
