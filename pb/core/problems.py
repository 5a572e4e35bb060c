"""Every error leaves as application/problem+json (RFC 9457) with the request id, and is logged.

- ``DomainError`` (our services): its status, title, detail, machine ``code`` and extras.
- Framework ``HTTPException``: 404/405 get a readable sentence; a parameter validation error is
  422 naming each bad parameter.
- Anything else is a bug: 500 with a generic detail and the request id; the log line holds the
  exception's types and frames under the same id.

Body validation errors are produced by ``pb.core.request_checks`` with ``field_problem`` below.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from pb.core.errors import DomainError
from pb.core.logs import describe_exception, get_logger, request_id, route_of

PROBLEM_JSON = "application/problem+json"

_log = get_logger("requests")


class FieldProblem(msgspec.Struct, omit_defaults=True):
    """One bad input: ``pointer`` into the JSON body, or the ``parameter`` (with where it was sent)."""

    detail: str
    pointer: str | None = None
    parameter: str | None = None
    location: str | None = None  # query, path, header, cookie (for parameters)


class Problem(msgspec.Struct, omit_defaults=True):
    """The body of every error response (further members may follow, e.g. ``problems``, ``rejected``)."""

    type: str
    title: str
    status: Annotated[int, msgspec.Meta(description="The HTTP status code, repeated in the body.", examples=[422])]
    detail: Annotated[str, msgspec.Meta(description="What went wrong, in words a person can act on.")]
    request_id: Annotated[str, msgspec.Meta(description="Names this request in the server's logs (X-Request-ID).")]
    code: Annotated[str, msgspec.Meta(description="Machine-readable reason, stable across releases "
                                      "(e.g. already_voted, outside_voting_window).")] | None = None
    errors: list[FieldProblem] | None = None


def problem(request: Request, status: int, title: str, detail: str, headers: dict[str, str] | None = None,
            **extra: Any) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail,
                            "request_id": request_id(request.scope)}
    body.update({key: value for key, value in extra.items() if value not in (None, {}, [])})
    _log.info("request_refused", request_id=body["request_id"], status=status, code=extra.get("code"),
              method=request.method, route=route_of(request.scope))
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_error(request: Request, error: DomainError) -> Response:
    return problem(request, error.status_code, error.title, error.detail, error.headers, code=error.code,
                   **error.extra)


# Framework errors whose default detail is only the status phrase ("Not Found") get a sentence.
_READABLE_DETAIL = {
    404: "There is no page or API route at {path}. The API is described at /schema/swagger.",
    405: "The route {path} does not accept the {method} method.",
    413: "The request body is larger than this server accepts ({limit} bytes at most).",
}
_TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 413: "Content too large",
           415: "Unsupported media type", 422: "Unprocessable content"}


def _phrase(status: int) -> str:
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""


def http_error(request: Request, error: HTTPException) -> Response:
    if isinstance(error, ValidationException):
        return _parameter_error(request, error)
    detail = error.detail
    if error.status_code in _READABLE_DETAIL and (len(detail.split()) < 3 or detail == _phrase(error.status_code)):
        path = request.url.path.replace("\x00", "\\0")
        detail = _READABLE_DETAIL[error.status_code].format(
            path=path, method=request.method, limit=request.app.request_max_body_size)
    return problem(request, error.status_code, _TITLES.get(error.status_code, type(error).__name__), detail)


def _parameter_error(request: Request, error: ValidationException) -> Response:
    """Litestar's parameter validation (query, path, header) as 422 naming each parameter."""
    errors = []
    for item in error.extra if isinstance(error.extra, list) else []:
        name, location = item.get("key"), item.get("source")
        if location == "body":  # bodies are checked before the handler (request_checks); kept for safety
            errors.append(FieldProblem(item.get("message", "invalid"), pointer="/" + (name or "").replace(".", "/")))
        else:
            errors.append(FieldProblem(item.get("message", "invalid"), parameter=name,
                                       location=str(location) if location else None))
    named = ", ".join(e.parameter or e.pointer or "?" for e in errors) or "the request"
    return problem(request, 422, _TITLES[422], f"Invalid value for {named}.", errors=errors)


def server_error(request: Request, error: Exception) -> Response:
    _log.error("server_error", request_id=request_id(request.scope), status=500, method=request.method,
               route=route_of(request.scope), exception=describe_exception(error))
    return Response(
        content={"type": "about:blank", "title": "Internal server error", "status": 500,
                 "detail": "Something went wrong on our side. It was logged; quote the request id when you report it.",
                 "request_id": request_id(request.scope)},
        status_code=500, media_type=PROBLEM_JSON,
    )


# -- msgspec validation messages -> JSON pointers ------------------------------------------------------

_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED_FIELD = re.compile(r"^Object (?:missing required|contains unknown) field `(?P<field>[^`]*)`")
_TEXT_FIELD = re.compile(r"^(?P<field>[A-Za-z_]\w*(?:/[^:\s]+)*): (?P<message>.*)$", re.DOTALL)


def _pointer(msgspec_path: str) -> str:
    """``$.budgets[0].name`` (without the ``$``) as the JSON pointer ``/budgets/0/name``."""
    parts = re.findall(r"\.([^.\[]+)|\[(\d+|\"[^\"]*\")\]", msgspec_path)
    tokens = [name or index.strip('"') for name, index in parts]
    return "".join("/" + token.replace("~", "~0").replace("/", "~1") for token in tokens)


def field_problem(error: Exception, prefix: str = "") -> FieldProblem:
    """One msgspec validation error (or text rule problem) as a FieldProblem with a JSON pointer."""
    match = _AT.match(str(error))
    message, path = match["message"], _pointer(match["path"] or "")
    if named := _NAMED_FIELD.match(message):
        path += "/" + named["field"]
    elif text := _TEXT_FIELD.match(message):
        path += "/" + text["field"]
        message = text["message"]
    return FieldProblem(message, pointer=prefix + path)
