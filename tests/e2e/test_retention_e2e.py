"""Retention through the Procfile's worker-maintenance against moto's S3 server on 127.0.0.1:
`backroom jobs run retention` archives, verifies and deletes the finished rows, `backroom archive
list|get` reads them back; with the store gone, a run deletes nothing and logs the failed upload."""

from __future__ import annotations

import json
import subprocess

from sqlalchemy import text

from db.engine import make_engine
from tests.e2e.conftest import BIN, ROOT, process_env
from tests.support.retention_rows import present, seed
from tests.support.s3_server import CREDENTIALS, s3_server
from tests.support.waiting import wait_for


def backroom(env: dict[str, str], *argv: str) -> str:
    done = subprocess.run(
        [str(BIN / "backroom"), *argv], env=env, cwd=ROOT, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def test_the_maintenance_worker_archives_then_deletes_and_a_failed_upload_deletes_nothing(
    fresh_settings, start_process
):
    engine = make_engine(fresh_settings)
    try:
        with s3_server() as s3:
            bucket = s3.new_bucket()
            env = process_env(
                fresh_settings,
                AWS_S3_BUCKET=bucket,
                AWS_ENDPOINT_URL=s3.url,
                AWS_REGION="us-east-1",
                **CREDENTIALS,
            )
            worker = start_process("worker-maintenance", env)
            seeded = seed(engine, age_days=45)  # past the default 30 days
            backroom(env, "jobs", "run", "retention")

            def archived():
                assert worker.poll() is None, worker.log_path.read_text()[-3000:]
                return present(engine, seeded.gone) == {table: [] for table in seeded.gone}

            wait_for(archived, timeout=30, what="the finished rows archived and deleted")
            assert present(engine, seeded.kept) == {t: sorted(ids) for t, ids in seeded.kept.items()}

            listed = [json.loads(line) for line in backroom(env, "archive", "list", "--json").splitlines()]
            assert {item["table"] for item in listed} == set(seeded.gone)
            (events,) = [item["key"] for item in listed if item["table"] == "webhook_event"]
            rows = [json.loads(line) for line in backroom(env, "archive", "get", events).splitlines()]
            assert [row["id"] for row in rows] == sorted(seeded.gone["webhook_event"])
            assert {row["state"] for row in rows} == {"processed", "ignored"}

        # the store is gone: the next run's uploads fail, and nothing is deleted
        more = seed(engine, age_days=45)
        backroom(env, "jobs", "run", "dead-letter-retention")  # the old name runs the same job
        wait_for(
            lambda: "retention.upload_failed" in worker.log_path.read_text(errors="replace"),
            timeout=45,
            what="the failed upload logged",
        )
        wait_for(
            lambda: (
                "retention.done"
                in worker.log_path.read_text(errors="replace").split("retention.upload_failed", 1)[1]
            ),
            timeout=45,
            what="the failing run to finish",
        )
        assert present(engine, more.gone) == {t: sorted(ids) for t, ids in more.gone.items()}
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM dead_letter_action")).scalar_one() == 1
    finally:
        engine.dispose()
