"""The webhook bench's baseline apps, served by `gunicorn 'bench.trivial_app:get_app()'` with the
Procfile's web settings (see bench/web.py).

`/echo` reads the body and answers JSON: what the web tier costs with no work in it at all (HTTP
parsing, gunicorn's threads, Falcon's routing and a JSON answer). `/floor` is the least any intake
with backroom's promises must do, written as tight as Python allows and nothing more: verify the
Stripe signature, count the request in a Redis window, INSERT the event once (autocommit, raw
psycopg, a connection per thread), push its id on a Redis list, answer. No logging, no metrics, no
middleware. It says how far the trivial route's figure is from reach for a real intake.

Two more rows say what a different shape would buy, each in the same tight Python:
`/floor-group-commit` hands each verified event to one writer thread per process, which counts the
batch in Redis (INCRBY per window), stores it with one multi-row INSERT and pushes the new ids
with one RPUSH, then wakes each request with its answer (group commit: one round trip of each kind
per batch instead of per request). `/floor-insert-only` verifies and INSERTs, nothing else: the
ceiling if the limiter and the enqueue left the request altogether (a leased limit and an outbox
relay), which no intake that keeps our promises reaches.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import queue
import threading
import time
from concurrent.futures import Future
from typing import Any

import falcon
import psycopg
import redis

INSERT = (
    "INSERT INTO bench_event (provider, event_id, event_type, payload) VALUES ('stripe', %s, %s, %s::jsonb) "
    "ON CONFLICT (provider, event_id) DO NOTHING RETURNING id"
)
# {} becomes one "(…, %s, %s, %s::jsonb)" group per event: placeholders only, values stay bound
ROWS = "INSERT INTO bench_event (provider, event_id, event_type, payload) VALUES {} " + (  # noqa: S608
    "ON CONFLICT (provider, event_id) DO NOTHING RETURNING id, event_id"
)


class Echo:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.bounded_stream.read()
        resp.media = {"received": True, "bytes": len(body)}


class Floor:
    def __init__(self) -> None:
        self.secret = os.environ.get("STRIPE_WEBHOOK_SECRET", "").encode()
        self.database_url = os.environ.get("DATABASE_URL", "").replace("+psycopg", "")
        self.redis = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        self.queue = f"{os.environ.get('REDIS_NAMESPACE', 'bench')}:floor"
        self.local = threading.local()

    def connection(self) -> psycopg.Connection[Any]:
        if getattr(self.local, "connection", None) is None:
            self.local.connection = psycopg.connect(self.database_url, autocommit=True)
        connection: psycopg.Connection[Any] = self.local.connection
        return connection

    def verified(self, req: falcon.Request) -> tuple[bytes, dict[str, Any]]:
        body: bytes = req.bounded_stream.read()
        parts = dict(p.split("=", 1) for p in (req.get_header("Stripe-Signature") or "").split(","))
        signed = parts.get("t", "").encode() + b"." + body
        if not hmac.compare_digest(
            hmac.new(self.secret, signed, hashlib.sha256).hexdigest(), parts.get("v1", "")
        ):
            raise falcon.HTTPBadRequest(title="bad signature")
        return body, json.loads(body)

    def window(self) -> str:
        return f"{self.queue}:limit:{int(time.time() // 60)}"

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body, event = self.verified(req)
        self.redis.incr(self.window())
        row = self.connection().execute(INSERT, (event["id"], event["type"], body.decode())).fetchone()
        if row is not None:
            self.redis.rpush(self.queue, row[0])
        resp.media = {"received": True, "duplicate": row is None}


class FloorInsertOnly(Floor):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body, event = self.verified(req)
        row = self.connection().execute(INSERT, (event["id"], event["type"], body.decode())).fetchone()
        resp.media = {"received": True, "duplicate": row is None}


Pending = tuple[str, str, str, str, "Future[bool]"]  # window, event id, type, body, answer (new?)


class FloorGroupCommit(Floor):
    def __init__(self) -> None:
        super().__init__()
        self.inbox: queue.SimpleQueue[Pending] = queue.SimpleQueue()
        self.writer: threading.Thread | None = None
        self.lock = threading.Lock()

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body, event = self.verified(req)
        if self.writer is None:
            with self.lock:  # one writer a process, started in the worker (gunicorn forks first)
                if self.writer is None:
                    self.writer = threading.Thread(target=self.write, daemon=True)
                    self.writer.start()
        answer: Future[bool] = Future()
        self.inbox.put((self.window(), event["id"], event["type"], body.decode(), answer))
        resp.media = {"received": True, "duplicate": not answer.result(timeout=10)}

    def write(self) -> None:
        connection = psycopg.connect(self.database_url, autocommit=True)
        while True:
            batch = [self.inbox.get()]
            while not self.inbox.empty():
                batch.append(self.inbox.get_nowait())
            try:
                self.store(connection, batch)
            except Exception as error:  # the batch's requests fail (the bench counts them); go on
                for *_, answer in batch:
                    answer.set_exception(error)
                connection.close()
                connection = psycopg.connect(self.database_url, autocommit=True)

    def store(self, connection: psycopg.Connection[Any], batch: list[Pending]) -> None:
        """Count, INSERT and push one batch; each request's answer says whether its event was new."""
        counts: dict[str, int] = {}
        for window, *_ in batch:
            counts[window] = counts.get(window, 0) + 1
        with self.redis.pipeline(transaction=False) as pipe:
            for window, count in counts.items():
                pipe.incrby(window, count)
            pipe.execute()
        values = ", ".join(["('stripe', %s, %s, %s::jsonb)"] * len(batch))
        stored = connection.execute(
            ROWS.format(values), [v for _, *fields, _ in batch for v in fields]
        ).fetchall()
        new = {event_id: row_id for row_id, event_id in stored}
        if new:
            self.redis.rpush(self.queue, *new.values())
        for _, event_id, _, _, answer in batch:
            answer.set_result(event_id in new)


def get_app() -> falcon.App:
    app = falcon.App()
    app.add_route("/echo", Echo())
    app.add_route("/floor", Floor())
    app.add_route("/floor-group-commit", FloorGroupCommit())
    app.add_route("/floor-insert-only", FloorInsertOnly())
    return app
