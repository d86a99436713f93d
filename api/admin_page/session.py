"""Signed session cookies and CSRF tokens for the operator page, keyed by ADMIN_API_TOKEN.

A session is `expiry.nonce.operator.signature` (operator: the name given at login, for the
audit); rotating ADMIN_API_TOKEN ends every session. The CSRF token is derived from the
session nonce, so each session has its own. A genuine cookie is not enough: its nonce must
also be live in the SessionStore (Redis), so logging out ends the session on the server.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

import redis

COOKIE = "backroom_admin"
LIFETIME_SECONDS = 8 * 3600
_OPERATOR = re.compile(r"[^A-Za-z0-9_@+-]")


@dataclass(frozen=True)
class Session:
    nonce: str
    operator: str


def clean_operator(name: str) -> str:
    """Letters, digits and _@+- only (dots would break the cookie format), at most 60."""
    return _OPERATOR.sub("", name.replace(".", "_"))[:60]


class Sessions:
    def __init__(self, admin_token: str, lifetime: int = LIFETIME_SECONDS) -> None:
        self.key = hashlib.sha256(b"backroom-admin-session:" + admin_token.encode()).digest()
        self.token = admin_token.encode()
        self.lifetime = lifetime

    def check_token(self, given: str) -> bool:
        return hmac.compare_digest(given.strip().encode(), self.token)

    def _sign(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()

    def issue(self, operator: str = "", now: float | None = None) -> str:
        expires = int((now or time.time()) + self.lifetime)
        body = f"{expires}.{secrets.token_urlsafe(16).replace('.', '_')}.{clean_operator(operator)}"
        return f"{body}.{self._sign(body)}"

    def open(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session if the cookie is genuine and unexpired, else None."""
        if not cookie or cookie.count(".") != 3:
            return None
        expires, nonce, operator, signature = cookie.split(".")
        if not hmac.compare_digest(signature, self._sign(f"{expires}.{nonce}.{operator}")):
            return None
        if not expires.isdigit() or int(expires) < (now or time.time()):
            return None
        return Session(nonce, operator)

    def nonce(self, cookie: str | None, now: float | None = None) -> str | None:
        session = self.open(cookie, now)
        return session.nonce if session else None

    def csrf(self, nonce: str) -> str:
        return self._sign(f"csrf:{nonce}")

    def check_csrf(self, nonce: str, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf(nonce), given or "")


class SessionStore:
    """Live session nonces in Redis with the session's lifetime as TTL; logout deletes one.

    Fail closed: with Redis unreachable no session is live (the login form says why).
    """

    def __init__(self, client: redis.Redis, namespace: str, lifetime: int = LIFETIME_SECONDS) -> None:
        self.client = client
        self.prefix = f"{namespace}:admin-session"
        self.lifetime = lifetime

    def start(self, nonce: str) -> None:
        """Raises redis.RedisError when the session cannot be recorded."""
        self.client.set(f"{self.prefix}:{nonce}", b"1", ex=self.lifetime)

    def alive(self, nonce: str) -> bool:
        try:
            return bool(self.client.exists(f"{self.prefix}:{nonce}"))
        except redis.RedisError:
            return False

    def end(self, nonce: str) -> None:
        self.client.delete(f"{self.prefix}:{nonce}")
