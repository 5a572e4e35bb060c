"""Domain errors. Services raise these; the app turns them into application/problem+json.

Each carries an HTTP status and a human-readable detail that names the problem, plus an optional
machine-readable ``code`` (e.g. the ballot constraint that was broken).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    title = "Bad request"

    def __init__(self, detail: str, *, code: str | None = None, extra: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.extra = extra or {}
        self.headers = headers or {}  # response headers the refusal needs (e.g. Retry-After)


class NotFound(DomainError):
    status_code = 404
    title = "Not found"


class Forbidden(DomainError):
    status_code = 403
    title = "Forbidden"


class Unauthorized(DomainError):
    status_code = 401
    title = "Unauthorized"


class Conflict(DomainError):
    """The request is valid but the current state does not allow it (wrong phase, duplicate…)."""

    status_code = 409
    title = "Conflict"


class Invalid(DomainError):
    """Well-formed input that breaks a rule (ballot constraints, amounts over a cap…)."""

    status_code = 422
    title = "Unprocessable content"


class TooManyRequests(DomainError):
    status_code = 429
    title = "Too many requests"


class MalformedRequest(DomainError):
    """The request cannot be read at all (body not JSON, nested too deeply)."""

    status_code = 400
    title = "Bad request"


class UnsupportedMediaType(DomainError):
    status_code = 415
    title = "Unsupported media type"


class ServerBusy(DomainError):
    """503: too many requests are waiting for the database; ``Retry-After`` says when to come back."""

    status_code = 503
    title = "Service unavailable"

    def __init__(self, detail: str, retry_after: int):
        super().__init__(detail, code="server_busy", extra={"retry_after": retry_after},
                         headers={"Retry-After": str(retry_after)})
