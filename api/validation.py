"""Reading request bodies: bounded size, strict JSON, pydantic models, field-named errors."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import falcon
from pydantic import BaseModel, ValidationError

from api.errors import Problem, validation_problem
from api.messages import field_errors, field_path

__all__ = ["field_errors", "field_path"]  # re-exported: resources validate query strings too

M = TypeVar("M", bound=BaseModel)
ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def _too_large(max_bytes: int) -> Problem:
    return Problem(413, "body-too-large", "Body too large", f"The body may be at most {max_bytes} bytes.")


def has_body(req: falcon.Request) -> bool:
    """A body was sent: a non-zero Content-Length, or a chunked one (which has no length)."""
    return bool(req.content_length) or (req.content_length is None and _chunked(req))


def _chunked(req: falcon.Request) -> bool:
    # The WSGI server (gunicorn) decodes the chunks and ends the raw stream at the body's end;
    # Falcon's bounded_stream, knowing no length, would read nothing.
    return "chunked" in (req.get_header("Transfer-Encoding") or "").lower()


def read_raw(req: falcon.Request, max_bytes: int) -> bytes:
    """The body's bytes, or a 413 problem: the one body reader of every route.

    Never reads more than `max_bytes` + 1, whether the client declared a Content-Length
    or sent the body chunked (no length: read to its end, up to the limit).
    """
    if req.content_length is not None:
        if req.content_length > max_bytes:
            raise _too_large(max_bytes)
        raw: bytes = req.bounded_stream.read(max_bytes + 1)
    elif _chunked(req):
        parts: list[bytes] = []
        size = 0
        while size <= max_bytes:
            part = req.stream.read(min(64 * 1024, max_bytes + 1 - size))
            if not part:
                break
            parts.append(part)
            size += len(part)
        raw = b"".join(parts)
    else:
        return b""
    if len(raw) > max_bytes:
        raise _too_large(max_bytes)
    return raw


def read_form(req: falcon.Request, max_bytes: int) -> dict[str, str]:
    """An HTML form post (application/x-www-form-urlencoded), read through `read_raw`."""
    raw = read_raw(req, max_bytes)
    if not raw:
        return {}
    if (req.content_type or "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise Problem(
            415, "unsupported-media-type", "Unsupported media type", "Send application/x-www-form-urlencoded."
        )
    try:
        return dict(parse_qsl(raw.decode("ascii"), keep_blank_values=True, max_num_fields=50))
    except (UnicodeDecodeError, ValueError):
        raise Problem(400, "malformed-form", "Malformed form", "The form body cannot be parsed.") from None


def loads(raw: bytes) -> Any:
    """JSON from bytes, or a 400 problem."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise Problem(
            400, "malformed-json", "Malformed JSON", f"The body is not valid JSON: {error}"
        ) from None


def read_json(req: falcon.Request, max_bytes: int) -> Any:
    """The parsed JSON body, or a 413/415/400 problem."""
    if req.content_type is None or not req.content_type.split(";")[0].strip().endswith(("/json", "+json")):
        raise Problem(415, "unsupported-media-type", "Unsupported media type", "Send application/json.")
    return loads(read_raw(req, max_bytes))


def parse_body(req: falcon.Request, model: type[M], max_bytes: int) -> M:
    """Validate the body against `model`; 422 naming every bad field."""
    data = read_json(req, max_bytes)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise validation_problem(field_errors(error)) from None


def check_id(name: str, value: str) -> str:
    """Path ids: 1-64 characters of letters, digits and `._:-`."""
    if not ID_PATTERN.match(value):
        raise validation_problem(
            [{"field": name, "message": "must be 1-64 characters of letters, digits and ._:-"}]
        )
    return value
