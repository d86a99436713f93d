"""Typed reads of dotted paths in a parsed JSON payload, failing with the path that was wrong."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import PermanentError

_MISSING: Any = object()


class PayloadError(PermanentError):
    """A verified payload lacks a field we need, or has it with the wrong type or shape.

    `field` is the dotted path from the payload's root (`data.object.amount`), or a header name.
    A permanent error: retrying the same payload cannot fix it.
    """

    def __init__(self, field: str) -> None:
        super().__init__(f"missing or invalid field {field}")
        self.field = field


def lookup(root: Mapping[str, Any], path: str) -> Any:
    """The value at `path`, or `_MISSING` if a step is absent or its parent is not an object."""
    value: Any = root
    for step in path.split("."):
        if not isinstance(value, Mapping) or step not in value:
            return _MISSING
        value = value[step]
    return value


def is_blank(root: Mapping[str, Any], path: str) -> bool:
    """Whether `path` is absent, null or an empty string."""
    value = lookup(root, path)
    return value is _MISSING or value is None or value == ""


def required_str(root: Mapping[str, Any], path: str) -> str:
    """A non-empty string at `path`."""
    value = lookup(root, path)
    if not isinstance(value, str) or not value:
        raise PayloadError(path)
    return value


def optional_str(root: Mapping[str, Any], path: str) -> str | None:
    """A string at `path`; None if the path is absent, null, empty or runs through a non-object.

    Providers send empty metadata as `""`, `0` or `[]` (Paystack, Razorpay), so a missing parent
    is not an error; a present value of another type is.
    """
    if is_blank(root, path):
        return None
    value = lookup(root, path)
    if not isinstance(value, str):
        raise PayloadError(path)
    return value


def identifier(root: Mapping[str, Any], path: str) -> str:
    """An id at `path` that may be a JSON string or integer (Paystack numbers its objects)."""
    value = lookup(root, path)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise PayloadError(path)
    return str(value)


def amount(root: Mapping[str, Any], path: str) -> int:
    """A non-negative integer amount in minor units at `path`."""
    value = lookup(root, path)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PayloadError(path)
    return value


def currency(root: Mapping[str, Any], path: str) -> str:
    """A three-letter ISO 4217 code at `path`, upper-cased."""
    value = lookup(root, path)
    if not isinstance(value, str) or len(value) != 3 or not value.isascii() or not value.isalpha():
        raise PayloadError(path)
    return value.upper()


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """A header's stripped value by case-insensitive name; None if absent or blank."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted and value.strip():
            return value.strip()
    return None
