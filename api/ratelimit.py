"""Rate limits in Redis: a fixed window per route class and client."""

from __future__ import annotations

import time
from typing import Any

import falcon
import redis

from api.errors import Problem
from core.logging import get_logger
from core.settings import Settings

log = get_logger("backroom.api.ratelimit")

# Count a request in its window's key, atomically with the key's expiry. Any key found without
# one (left by a version that set it in a second command) gets it too.
COUNT = """
local count = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class RateLimit:
    """Counts requests per (route class, client) in a Redis window; 429 past the limit.

    Resources declare `rate_limit = "storefront" | "admin" | "cron" | "public"`; the
    middleware counts them in `process_resource`, placed before authentication so a wrong
    token costs the client as much as a right one. `rate_limit = None` means the resource
    counts itself with `hit`: webhooks do, after their signature check, in `webhooks` or
    `webhooks_invalid`. The client is `req.remote_addr` (the forwarded client behind
    TRUSTED_PROXIES). If Redis is unreachable the request goes through (logged): a broken
    limiter must not take checkout down with it.
    """

    def __init__(self, settings: Settings, client: redis.Redis) -> None:
        self.settings = settings
        self.client = client
        self.prefix = f"{settings.redis_namespace}:ratelimit"
        self._script = client.register_script(COUNT)  # its SHA, and loading it

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        route_class = getattr(resource, "rate_limit", "public")
        if route_class is not None:
            self.hit(req, resp, route_class)

    def hit(self, req: falcon.Request, resp: falcon.Response, route_class: str) -> None:
        """Count one request of `route_class` for this client; raise 429 past the limit."""
        limit, window = self.settings.rate(route_class)
        now = time.time()
        window_start = int(now // window) * window
        key = f"{self.prefix}:{route_class}:{req.remote_addr}:{window_start}"
        try:
            # One round trip, and the count and its expiry cannot come apart: a process dying
            # between an INCR and an EXPIRE of its own would leave the key in Redis forever.
            count = int(self._evalsha(key, window + 1))
        except redis.RedisError as error:
            log.warning("ratelimit.unavailable", error=str(error))
            return
        reset = max(1, int(window_start + window - now + 0.999))
        headers = {
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(max(0, limit - count)),
            "RateLimit-Reset": str(reset),
        }
        if count > limit:
            raise Problem(
                429,
                "rate-limited",
                "Too many requests",
                f"At most {limit} requests per {window} s for this route class; retry after {reset} s.",
                headers={**headers, "Retry-After": str(reset)},
            )
        resp.set_headers(headers)

    def _evalsha(self, key: str, ttl: int) -> Any:
        """COUNT by its SHA, loaded again when Redis lost it (a restart). What redis-py's Script
        call does, without its layers of wrappers: this runs on every request."""
        try:
            return self.client.execute_command("EVALSHA", self._script.sha, 1, key, ttl)
        except redis.exceptions.NoScriptError:
            self._script.sha = self.client.script_load(COUNT)
            return self.client.execute_command("EVALSHA", self._script.sha, 1, key, ttl)
