"""What a log line may not carry: secrets, URL passwords, message bodies, whole email addresses.

Two layers. `redact` masks an event's values by key (secret-looking keys, message bodies,
email fields), recursively through dicts and lists. `SecretScrubber` runs last, on the
rendered line, so it also covers exception messages and tracebacks: it masks URL passwords,
email addresses and the exact value of every secret the settings hold.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from pydantic import SecretStr

from core.settings import Settings, split_list

MASK = "***"
# Shorter values are not scrubbed by value (masking every "pw" would garble the logs);
# production secrets are 16+ characters and URL passwords are masked by shape anyway.
MIN_SECRET_LENGTH = 6
_MAX_DEPTH = 8
_SECRET_KEY = re.compile(
    r"secret|token|passw|pwd|authorization|api_?key|signature|cookie|dsn|credential", re.IGNORECASE
)
_BODY_KEY = re.compile(r"^(html|text|body|raw_?body|payload|content|message_body)$", re.IGNORECASE)
_EMAIL_KEY = re.compile(
    r"^(e_?mail|.*_email|to|cc|bcc|reply_to|to_address|from_address|recipients?)$", re.IGNORECASE
)
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s'\"<>]*):(?P<password>[^@\s'\"<>]+)@"
)
_KEYWORD_PASSWORD = re.compile(r"\b(?P<key>password|passwd|pwd)=(?P<value>'[^']*'|\"[^\"]*\"|[^\s'\",]+)")
# An address in free text; `user@127.0.0.1` (a URL's user) has no alphabetic TLD and is left alone.
_EMAIL = re.compile(
    r"(?<![\w.+%/-])(?P<first>[\w+%-])[\w.+%-]*@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b"
)
_LOOSE_EMAIL = re.compile(r"(?P<first>[^\s@<>,;'\"*])[^\s@<>,;'\"]*@")


# Each pattern needs a literal that most lines lack; testing for it first (`in`, a fast scan in C)
# spares the regex's slow one, which is most of a log line's cost. It skips only lines that
# cannot match, so nothing is masked differently.
def mask_url_password(text: str) -> str:
    """`postgresql://u:pw@h/x` -> `postgresql://u:***@h/x`; conninfo `password=pw` likewise."""
    if "@" in text and "://" in text:
        text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}:{MASK}@", text)
    if "password=" in text or "passwd=" in text or "pwd=" in text:
        text = _KEYWORD_PASSWORD.sub(lambda m: f"{m.group('key')}={MASK}", text)
    return text


def mask_emails(text: str) -> str:
    """Every address in free text keeps its first character and domain: `a***@example.com`."""
    if "@" not in text:
        return text
    return _EMAIL.sub(lambda m: f"{m.group('first')}{MASK}@{m.group('domain')}", text)


def mask_text(text: str) -> str:
    if "@" not in text and "=" not in text:  # each pattern needs one: most values have neither
        return text
    return mask_emails(mask_url_password(text))


_HIDDEN, _EMAIL_FIELD, _PLAIN = range(3)
_ATOMS = frozenset({int, float, bool, type(None)})


@lru_cache(maxsize=4096)
def _key_kind(key: str) -> int:
    """What a key's value needs; keys are few and repeat on every line, so each is classified once."""
    if _SECRET_KEY.search(key) or _BODY_KEY.match(key):
        return _HIDDEN
    return _EMAIL_FIELD if _EMAIL_KEY.match(key) else _PLAIN


def _mask_value(key: str, value: Any, depth: int) -> Any:
    kind = _key_kind(key)
    if kind == _HIDDEN:
        # A flag or a count (`signature_valid=False`, `body_bytes`) says nothing secret.
        return value if value in (None, "") or isinstance(value, bool | int | float) else MASK
    if kind == _EMAIL_FIELD and isinstance(value, str):
        return _LOOSE_EMAIL.sub(lambda m: f"{m.group('first')}{MASK}@", value)
    return _mask(value, depth)


def _mask(value: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return MASK
    if value.__class__ in _ATOMS:  # most values: nothing to mask or walk (one lookup, not 3 isinstance)
        return value
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _mask_value(str(k), v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_mask(item, depth + 1) for item in value]
    return value


def redact(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: mask secret keys, bodies, emails and URL passwords, at any depth."""
    for key, value in list(event.items()):
        if key not in ("exc_info", "_record", "_from_structlog"):
            event[key] = _mask_value(key, value, 0)
    return event


def secret_values(settings: Settings) -> set[str]:
    """Every secret the settings hold: SecretStr fields (and each part of a rotation list),
    webhook secrets (development placeholders included) and passwords inside URL settings."""
    values: set[str] = set()
    for name in type(settings).model_fields:
        field = getattr(settings, name)
        raw = field.get_secret_value() if isinstance(field, SecretStr) else field
        if not isinstance(raw, str):
            continue
        if isinstance(field, SecretStr):
            values.add(raw)
            for part in split_list(raw):
                values |= {part, part.removeprefix("whsec_")}
        if "://" in raw:
            password = urlsplit(raw).password
            values |= {password, unquote(password)} if password else set()
    for provider in ("stripe", "paystack", "razorpay", "standard"):
        values.update(settings.webhook_secrets(provider))
    return {value for value in values if len(value) >= MIN_SECRET_LENGTH}


class SecretScrubber:
    """Last processor, on the rendered line: URL passwords, emails and known secret values."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for value in secrets:  # as written, as JSON and repr escape it, as a URL encodes it
            forms |= {value, json.dumps(value)[1:-1], repr(value)[1:-1], quote(value, safe="")}
        ordered = sorted((form for form in forms if len(form) >= MIN_SECRET_LENGTH), key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def scrub(self, line: str) -> str:
        # Exact values first: a secret holding `@` or `:` must not be half-masked by shape.
        line = self._pattern.sub(MASK, line) if self._pattern else line
        return mask_text(line)

    def __call__(self, _logger: Any, _name: str, line: Any) -> Any:
        return self.scrub(line) if isinstance(line, str) else line
