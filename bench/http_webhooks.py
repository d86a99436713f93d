"""Webhook intake over HTTP: signed Stripe events, each new, against two baselines in the same run.

Ours: `POST /v1/webhooks/stripe` on backroom's gunicorn, every request a new event signed as
Stripe signs it (bench/webhook_events.py). Baselines: the same requests to a Falcon route that
reads the body and answers JSON under the same gunicorn settings (bench/trivial_app.py), to a
minimal intake in tight Python under the same settings (verify, count, INSERT, RPUSH; the same
file), and pgbench inserting one row per transaction into a table shaped like `webhook_event`.
After each round of ours: every acknowledged event is stored, and every stored one has its
message in the `webhooks` queue (no worker consumes it during the bench), none marked unsent.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
from pathlib import Path

import redis

from bench.harness import Result, Run
from bench.loadgen import WRK_THREADS, pgbench, wrk
from bench.stage import Stage
from bench.webhook_events import event, write_events
from core.catalog import WEBHOOK_ACTOR

# The most events a second either route could take, for sizing the signed-event file.
CEILING_PER_SECOND = 12_000
SCRATCH = """
DROP TABLE IF EXISTS bench_event;
CREATE TABLE bench_event (
    id bigserial PRIMARY KEY, provider text NOT NULL, event_id text NOT NULL, event_type text NOT NULL,
    payload jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now(), UNIQUE (provider, event_id)
);
"""


class WebhookBench:
    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self.directory = Path(tempfile.mkdtemp(prefix="backroom-bench-events-"))
        stage.sql(SCRATCH)
        # base64: pgbench would read the JSON's ":name" as its variables
        payload = base64.b64encode(event("pgbench", 0)).decode()
        self.insert = (
            "INSERT INTO bench_event (provider, event_id, event_type, payload) VALUES ('stripe', "  # noqa: S608
            "gen_random_uuid()::text, 'payment_intent.succeeded', "
            f"convert_from(decode('{payload}', 'base64'), 'UTF8')::jsonb);\n"
        )
        self.queue = redis.Redis.from_url(stage.env.settings.redis_url)
        self.messages = f"{stage.env.settings.redis_namespace}:{WEBHOOK_ACTOR[1]}"

    def signed(self, url: str, path: str, prefix: str) -> tuple[Run, int, int]:
        """wrk sending new signed events; the run, the events made, failed requests."""
        count = int(CEILING_PER_SECOND * self.stage.seconds) + 1000
        events = write_events(self.directory / "events.tsv", prefix, count)
        threads = str(min(WRK_THREADS, self.stage.connections))
        load = wrk(
            url,
            "signed",
            [str(events), threads, path],
            seconds=self.stage.seconds,
            connections=self.stage.connections,
        )
        self.stage.checks.expect(
            "each event new (the signed file was not used up)",
            load.ok + load.failed < count,
            f"{load.ok + load.failed} requests for {count} events",
        )
        return load.run, count, load.failed

    def ours(self) -> Run:
        prefix = self.stage.next_id()
        run, _, failed = self.signed(self.stage.web.url, "/v1/webhooks/stripe", prefix)
        self.stage.checks.expect(
            "webhooks: every request acknowledged (2xx)", failed == 0, f"{failed} failed"
        )
        self.stage.settle()
        rows = self.stage.sql(
            "SELECT id, last_enqueued_at IS NOT NULL AND last_enqueued_at < '2000-01-01' FROM webhook_event "
            "WHERE provider = 'stripe' AND event_id LIKE %s",
            (f"evt\\_{prefix}\\_%",),
        )
        stored = {row_id for row_id, _ in rows}
        unsent = sum(1 for _, marked in rows if marked)
        queued = {json.loads(raw)["args"][0] for raw in self.queue.hvals(f"{self.messages}.msgs")}
        self.queue.delete(self.messages, f"{self.messages}.msgs")  # no worker: keep Redis small
        self.stage.checks.expect(
            "webhooks: every acknowledged event stored",
            len(stored) >= run.ops,
            f"{run.ops} acknowledged, {len(stored)} stored",
        )
        self.stage.checks.expect(
            "webhooks: every stored event enqueued, none marked unsent",
            stored <= queued and unsent == 0,
            f"{len(stored - queued)} of {len(stored)} stored not in the queue, {unsent} marked unsent",
        )
        return run

    def trivial(self) -> Run:
        run, _, failed = self.signed(self.stage.trivial.url, "/echo", self.stage.next_id())
        self.stage.checks.expect("trivial route: every request 2xx", failed == 0, f"{failed} failed")
        return run

    def floor(self, route: str = "/floor", label: str = "minimal intake") -> Run:
        """The least an intake with our promises does, in tight Python (bench/trivial_app.py), and
        its two variants (group commit; INSERT only)."""
        prefix = self.stage.next_id()
        run, _, failed = self.signed(self.stage.trivial.url, route, prefix)
        self.stage.checks.expect(f"{label}: every request 2xx", failed == 0, f"{failed} failed")
        stored = self.stage.number(
            "SELECT count(*) FROM bench_event WHERE event_id LIKE %s", (f"evt\\_{prefix}\\_%",)
        )
        self.stage.checks.expect(
            f"{label}: every acknowledged event stored", stored >= run.ops, f"{run.ops} vs {stored}"
        )
        self.queue.delete(f"{self.stage.env.settings.redis_namespace}:floor")
        return run

    def pgbench_insert(self) -> Run:
        load = pgbench(
            self.stage.env.settings.database_url,
            self.insert,
            seconds=self.stage.seconds,
            connections=self.stage.connections,
        )
        self.stage.checks.expect("pgbench INSERT: no failed transaction", load.failed == 0, f"{load.failed}")
        return load.run


def run(stage: Stage) -> list[Result]:
    bench = WebhookBench(stage)
    try:
        sides = stage.measure(
            {
                "ours": bench.ours,
                "trivial": bench.trivial,
                "floor": bench.floor,
                "pgbench": bench.pgbench_insert,
                "group commit": lambda: bench.floor("/floor-group-commit", "minimal intake, group commit"),
                "insert only": lambda: bench.floor("/floor-insert-only", "INSERT-only intake"),
            }
        )
    finally:
        shutil.rmtree(bench.directory, ignore_errors=True)  # the signed events: tens of MB
    name = "webhook, each event new"
    return [
        Result(name, "trivial Falcon route, same gunicorn", sides["ours"], sides["trivial"]),
        Result(name, "minimal intake, same gunicorn (floor)", sides["ours"], sides["floor"]),
        Result(name, "pgbench one-row INSERT", sides["ours"], sides["pgbench"]),
        # Not ours: how far the trivial route is from reach for any intake that keeps the promises.
        Result(
            "floor: minimal intake",
            "trivial Falcon route, same gunicorn",
            sides["floor"],
            sides["trivial"],
        ),
        # What another shape would buy, in the same tight Python (bench/trivial_app.py).
        Result(
            "floor, group commit",
            "trivial Falcon route, same gunicorn",
            sides["group commit"],
            sides["trivial"],
        ),
        Result(
            "floor, INSERT only",
            "trivial Falcon route, same gunicorn",
            sides["insert only"],
            sides["trivial"],
        ),
    ]
