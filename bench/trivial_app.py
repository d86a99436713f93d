"""The webhook bench's baseline apps, served by `gunicorn 'bench.trivial_app:get_app()'` with the
Procfile's web settings (see bench/web.py).

`/echo` reads the body and answers JSON: what the web tier costs with no work in it at all (HTTP
parsing, gunicorn's threads, Falcon's routing and a JSON answer). `/floor` is the least any intake
with backroom's promises must do, written as tight as Python allows and nothing more: verify the
Stripe signature, count the request in a Redis window, INSERT the event once (autocommit, raw
psycopg, a connection per thread), push its id on a Redis list, answer. No logging, no metrics, no
middleware. It says how far the trivial route's figure is from reach for a real intake.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from typing import Any

import falcon
import psycopg
import redis

INSERT = (
    "INSERT INTO bench_event (provider, event_id, event_type, payload) VALUES ('stripe', %s, %s, %s::jsonb) "
    "ON CONFLICT (provider, event_id) DO NOTHING RETURNING id"
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

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.bounded_stream.read()
        parts = dict(p.split("=", 1) for p in (req.get_header("Stripe-Signature") or "").split(","))
        signed = parts.get("t", "").encode() + b"." + body
        if not hmac.compare_digest(
            hmac.new(self.secret, signed, hashlib.sha256).hexdigest(), parts.get("v1", "")
        ):
            raise falcon.HTTPBadRequest(title="bad signature")
        window = f"{self.queue}:limit:{int(time.time() // 60)}"
        self.redis.incr(window)
        event = json.loads(body)
        row = self.connection().execute(INSERT, (event["id"], event["type"], body.decode())).fetchone()
        if row is not None:
            self.redis.rpush(self.queue, row[0])
        resp.media = {"received": True, "duplicate": row is None}


def get_app() -> falcon.App:
    app = falcon.App()
    app.add_route("/echo", Echo())
    app.add_route("/floor", Floor())
    return app
