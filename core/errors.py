"""One error tree for every layer. Each error carries its problem slug, HTTP status and title;
the API's one handler turns it into problem+json and the CLI into a message and an exit code.

Services raise these; entry points never translate errors case by case.
"""

from __future__ import annotations

from typing import Any


class BackroomError(Exception):
    """Base of our errors. `members` are extra problem fields (e.g. `shortages`, `errors`)."""

    status = 500
    slug = "internal-error"
    title = "Internal server error"
    exit_code = 1

    def __init__(
        self,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **members: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.slug = slug or type(self).slug
        self.title = title or type(self).title
        self.headers = headers or {}
        self.members = members


class NotFound(BackroomError):
    status, slug, title, exit_code = 404, "not-found", "Not found", 3


class Conflict(BackroomError):
    """The request is well formed but the state forbids it (stock, a closed checkout, a replay)."""

    status, slug, title, exit_code = 409, "conflict", "Conflict", 4


class Invalid(BackroomError):
    """Bad input; `errors` lists `{"field", "message"}` in the API's words."""

    status, slug, title, exit_code = 422, "validation-error", "Invalid request", 2

    def __init__(self, detail: str, errors: list[dict[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(detail, errors=errors or [], **kwargs)


class Unavailable(BackroomError):
    """A server we depend on is down or not configured; retrying later can help."""

    status, slug, title, exit_code = 503, "unavailable", "Service unavailable", 5


class PermanentError(BackroomError):
    """A failure that retrying cannot fix: a 4xx from a provider, bad data, a missing row.

    The worker's retry policy fails such a message at once instead of retrying it.
    """

    status, slug, title, exit_code = 500, "permanent-failure", "Permanent failure", 1
