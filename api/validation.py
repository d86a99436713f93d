"""Reading request bodies: bounded size, strict JSON, pydantic models, field-named errors."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

import falcon
from pydantic import BaseModel, ValidationError

from api.errors import Problem, validation_problem
from api.messages import field_errors, field_path

__all__ = ["field_errors", "field_path"]  # re-exported: resources validate query strings too

M = TypeVar("M", bound=BaseModel)
ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def read_raw(req: falcon.Request, max_bytes: int) -> bytes:
    """The body's bytes, or a 413 problem. Never reads more than `max_bytes` + 1."""
    too_large = Problem(
        413, "body-too-large", "Body too large", f"The body may be at most {max_bytes} bytes."
    )
    if req.content_length is not None and req.content_length > max_bytes:
        raise too_large
    raw: bytes = req.bounded_stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise too_large
    return raw


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
