"""Signed session cookies and CSRF tokens for the operator page, keyed by ADMIN_API_TOKEN.

A session is `expiry.nonce.signature`; rotating ADMIN_API_TOKEN ends every session.
The CSRF token is derived from the session nonce, so each session has its own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

COOKIE = "backroom_admin"
LIFETIME_SECONDS = 8 * 3600


class Sessions:
    def __init__(self, admin_token: str, lifetime: int = LIFETIME_SECONDS) -> None:
        self.key = hashlib.sha256(b"backroom-admin-session:" + admin_token.encode()).digest()
        self.token = admin_token.encode()
        self.lifetime = lifetime

    def check_token(self, given: str) -> bool:
        return hmac.compare_digest(given.strip().encode(), self.token)

    def _sign(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()

    def issue(self, now: float | None = None) -> str:
        expires = int((now or time.time()) + self.lifetime)
        body = f"{expires}.{secrets.token_urlsafe(16)}"
        return f"{body}.{self._sign(body)}"

    def nonce(self, cookie: str | None, now: float | None = None) -> str | None:
        """The session's nonce if the cookie is genuine and unexpired, else None."""
        if not cookie or cookie.count(".") != 2:
            return None
        expires, nonce, signature = cookie.split(".")
        if not hmac.compare_digest(signature, self._sign(f"{expires}.{nonce}")):
            return None
        if not expires.isdigit() or int(expires) < (now or time.time()):
            return None
        return nonce

    def csrf(self, nonce: str) -> str:
        return self._sign(f"csrf:{nonce}")

    def check_csrf(self, nonce: str, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf(nonce), given or "")
