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


class RateLimit:
    """Counts requests per (route class, client) in a Redis window; 429 past the limit.

    Resources declare `rate_limit = "storefront" | "webhooks" | "admin" | "cron" | "public"`.
    The client is the bearer-authenticated route class plus the peer address.
    If Redis is unreachable the request goes through (logged): a broken
    limiter must not take checkout down with it.
    """

    def __init__(self, settings: Settings, client: redis.Redis) -> None:
        self.settings = settings
        self.client = client
        self.prefix = f"{settings.redis_namespace}:ratelimit"

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        route_class = getattr(resource, "rate_limit", None)
        if route_class is None:
            return
        limit, window = self.settings.rate(route_class)
        now = time.time()
        window_start = int(now // window) * window
        key = f"{self.prefix}:{route_class}:{req.remote_addr}:{window_start}"
        try:
            pipe = self.client.pipeline()
            pipe.incr(key)
            pipe.expire(key, window + 1)
            count = int(pipe.execute()[0])
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
