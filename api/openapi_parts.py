"""Building blocks of the OpenAPI document: references, bodies, problems, operations."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from api.validation import ID_PATTERN

PROBLEM = {"$ref": "#/components/schemas/Problem"}
OBJECT = {"type": "object"}
SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "storefront": [{"storefront": []}],
    "admin": [{"admin": []}],
    "cron": [{"cron": []}],
}


def ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def problems(*codes: int) -> dict[str, Any]:
    text = {
        400: "malformed JSON, or (webhooks) a bad signature or payload",
        401: "missing or wrong bearer token",
        404: "not found",
        409: "conflict",
        413: "body larger than MAX_BODY_BYTES",
        415: "body is not JSON",
        422: "validation error naming each bad field",
        429: "rate limited; see Retry-After",
        503: "a dependency is unavailable (database-unavailable: PostgreSQL did not answer); see Retry-After",
    }
    return {
        str(code): {"description": text[code], "content": {"application/problem+json": {"schema": PROBLEM}}}
        for code in codes
    }


def id_param(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": ID_PATTERN.pattern, "minLength": 1, "maxLength": 64},
    }


def operation(
    summary: str,
    responses: dict[str, Any],
    *,
    security: str | None = None,
    body: Any = None,
    params: tuple[str, ...] = (),
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": {**responses, **problems(429)}}
    operation["security"] = SECURITY[security] if security else []
    if security:  # every authenticated route reads or writes PostgreSQL (api/errors.py: 503)
        operation["responses"].update(problems(401, 503))
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
        operation["responses"].update(problems(400, 413, 415, 422))
    if params:
        operation["parameters"] = [id_param(name) for name in params]
    return operation
