"""Pydantic's validation errors in the API's words: JSON types and limits, no Python names.

A client sees `{"field": "items[0]", "message": "must be an object"}`, never "Input should be
a valid dictionary or instance of Item": model class names and Python types mean nothing to
the storefront. Each pydantic error type we can meet maps to a phrase; an unknown one keeps
pydantic's message with its Python wording removed, so a new type degrades, never leaks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

_TYPES = {
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "list_type": "must be an array",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer (no fractional part)",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "datetime_type": "must be a date-time (RFC 3339, e.g. 2025-01-31T12:00:00Z)",
    "datetime_parsing": "must be a date-time (RFC 3339, e.g. 2025-01-31T12:00:00Z)",
    "datetime_from_date_parsing": "must be a date-time (RFC 3339, e.g. 2025-01-31T12:00:00Z)",
    "timezone_aware": "must include a time zone offset (e.g. Z or +01:00)",
    "string_unicode": "must be valid text",
}


def _plural(count: Any, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


_WITH_CONTEXT: dict[str, Callable[[dict[str, Any]], str]] = {
    "string_too_short": lambda c: (
        "must not be empty"
        if c["min_length"] == 1
        else f"must be at least {_plural(c['min_length'], 'character')}"
    ),
    "string_too_long": lambda c: f"must be at most {_plural(c['max_length'], 'character')}",
    "too_short": lambda c: f"must have at least {_plural(c['min_length'], 'item')}",
    "too_long": lambda c: f"must have at most {_plural(c['max_length'], 'item')}",
    "string_pattern_mismatch": lambda c: f"must match the pattern {c['pattern']}",
    "greater_than_equal": lambda c: f"must be at least {c['ge']}",
    "greater_than": lambda c: f"must be greater than {c['gt']}",
    "less_than_equal": lambda c: f"must be at most {c['le']}",
    "less_than": lambda c: f"must be less than {c['lt']}",
    "literal_error": lambda c: f"must be one of {c['expected']}",
    "enum": lambda c: f"must be one of {c['expected']}",
}
_INSTANCE_OF = re.compile(r",? or (an )?instance of \w+")


def _fallback(message: str) -> str:
    message = _INSTANCE_OF.sub("", message.removeprefix("Value error, ").removeprefix("Assertion failed, "))
    message = re.sub(r"\bdictionary\b", "object", message)
    for prefix in ("Input should be ", "String should ", "List should ", "Value should "):
        if message.startswith(prefix):
            return "must " + ("be " if prefix == "Input should be " else "") + message[len(prefix) :]
    return message


def plain_message(error: ErrorDetails) -> str:
    """One pydantic error as the API says it."""
    kind = error["type"]
    context: dict[str, Any] = dict(error.get("ctx") or {})
    if kind in _TYPES:
        return _TYPES[kind]
    if kind in _WITH_CONTEXT:
        try:
            return _WITH_CONTEXT[kind](context)
        except KeyError:
            pass
    if kind == "value_error" and "reason" in context:  # email-validator's reason, in plain words
        return f"must be an email address ({context['reason']})"
    if kind in ("value_error", "assertion_error") and "error" in context:
        return _fallback(str(context["error"]))
    return _fallback(str(error["msg"]))


def field_path(loc: tuple[int | str, ...]) -> str:
    """`("items", 0, "sku")` -> `items[0].sku`; the body itself is `body`."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """Every error of a validation, as the `errors` member of a 422 problem."""
    return [{"field": field_path(e["loc"]), "message": plain_message(e)} for e in error.errors()]
