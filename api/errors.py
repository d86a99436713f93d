"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import json
from typing import Any

import falcon
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from core.errors import BackroomError
from core.logging import get_logger

PROBLEM_BASE = "https://backroom.dev/problems/"
PROBLEM_JSON = "application/problem+json"
log = get_logger("backroom.api")

# Stable `type` slugs for errors Falcon raises itself.
_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    411: "length-required",
    413: "body-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "rate-limited",
    500: "internal-error",
    503: "unavailable",
}
_DETAILS = {
    404: "No route matches this path.",
    405: "This route does not allow that method.",
}


class Problem(falcon.HTTPError):
    """An HTTP error with a stable problem `type` and optional extra members."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **members: Any,
    ) -> None:
        super().__init__(status, title=title, description=detail, headers=headers)
        self.slug = slug
        self.members = members


def validation_problem(errors: list[dict[str, str]], detail: str = "The request is invalid.") -> Problem:
    return Problem(422, "validation-error", "Invalid request", detail, errors=errors)


def problem_body(req: falcon.Request, error: falcon.HTTPError) -> dict[str, Any]:
    status = error.status_code
    plain = falcon.code_to_http_status(status)[4:]
    title = plain if not error.title or error.title[:3].isdigit() else error.title
    slug = getattr(error, "slug", None) or _SLUGS.get(status, "http-error")
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": error.description or _DETAILS.get(status, title),
        "instance": req.path,
    }
    request_id = req.context.get("request_id")
    if request_id:
        body["request_id"] = request_id
    body.update(getattr(error, "members", {}))
    return body


def serialize_problem(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError) -> None:
    """Falcon error serializer: problem+json whatever the client's Accept header says."""
    resp.content_type = PROBLEM_JSON
    resp.text = json.dumps(problem_body(req, error), default=str)


def handle_backroom_error(
    req: falcon.Request, resp: falcon.Response, error: BackroomError, params: dict[str, Any]
) -> None:
    """The one mapping from our error tree to problem+json: status, slug and title travel with
    the error, so no resource converts errors by hand."""
    raise Problem(
        error.status,
        error.slug,
        error.title,
        error.detail,
        headers=error.headers or None,
        **error.members,
    ) from error


# PostgreSQL down, restarting or failing over, a statement cancelled or a deadlock, or no pooled
# connection free in time: nothing the caller sent is wrong, so 503 and when to retry.
DATABASE_UNAVAILABLE = (OperationalError, DisconnectionError, PoolTimeout)
RETRY_AFTER_SECONDS = "5"


def handle_database_unavailable(
    req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]
) -> None:
    """503 + Retry-After. Logged by the driver error's name only: the wrapped error's text
    carries the statement and its parameters."""
    log.warning("request.database_unavailable", error_type=type(getattr(error, "orig", error)).__name__)
    raise Problem(
        503,
        "database-unavailable",
        "Database unavailable",
        "The database did not answer. Retry shortly.",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    ) from None


def handle_unexpected(
    req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]
) -> None:
    """Anything not an HTTPError: log it with its traceback, answer a bare 500 problem."""
    log.exception("request.unhandled_error", error_type=type(error).__name__)
    raise Problem(500, "internal-error", "Internal server error", "An unexpected error occurred.") from error
