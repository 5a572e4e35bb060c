"""OpenAPI: every operation lists the error statuses it can return, each with the Problem schema.

The statuses follow from what the route declares, so a route added later is documented too:
a JSON body can be unreadable (400), too large (413), of the wrong type (415) or invalid (422);
a route that is not public needs a token, and the sign-in routes check credentials (401); a role
guard can refuse (403); ids in the path may name nothing (404); routes under an organisation and
every write can meet a state that forbids them (409); a rate-limited flow answers 429; any of them
can find the server too busy to wait for the database (503 with Retry-After, ``pb.engines``).
"""

from __future__ import annotations

import inspect
from typing import Iterable

from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec

from pb.core.guard_chain import guards_of
from pb.core.problems import PROBLEM_JSON, Problem

_DESCRIPTIONS = {
    400: "The request cannot be read (a JSON body that is not JSON).",
    401: "No valid access token: send 'Authorization: Bearer <access token>'.",
    403: "Signed in, but not allowed: not a member of the organisation, or without the needed role.",
    404: "Nothing with that id here (or nothing you may see).",
    409: "Valid, but the current state does not allow it (wrong phase, already done, duplicate).",
    413: "The request body is too large.",
    415: "The body is not sent as 'Content-Type: application/json'.",
    422: "A value breaks a rule; ``errors`` names each bad field with a JSON pointer.",
    429: "Too many requests in this flow from you; wait and try again.",
    503: "The server is busy (a burst of requests is waiting for the database); 'Retry-After' says when "
         "to try again.",
}
_READS = {"GET", "HEAD"}


def _guard_names(handler: HTTPRouteHandler) -> list[str]:
    return [getattr(member, "__name__", "") for guard in handler.guards or [] for member in guards_of(guard)]


def error_statuses(handler: HTTPRouteHandler) -> list[int]:
    # inspect, not handler.parsed_fn_signature: that is cached on the handler, which every app shares,
    # and Litestar adds the route's path parameters to it when it registers the handler.
    parameters = inspect.signature(handler.fn).parameters
    paths = " ".join(handler.paths)
    has_body = "data" in parameters or "body" in parameters
    statuses = set()
    if has_body:
        statuses |= {400, 413, 415, 422}
    if not handler.opt.get("public"):
        statuses |= {401, 404}
    if paths.startswith("/api/auth/"):  # credentials exchanged here can be wrong
        statuses.add(401)
    if any(name.startswith("requires_") for name in _guard_names(handler)):
        statuses.add(403)
    if "{" in paths:
        statuses.add(404)
    if paths.startswith("/api/orgs/") or not handler.http_methods <= _READS:
        statuses.add(409)
    if "{" in paths or any(name not in ("actor", "request") for name in parameters):
        # 422 names a bad parameter; 400 is documented too because Litestar lists it for any parameter
        statuses |= {400, 422}
    # a rate_limited(...) guard, or a handler that limits itself (login) and says so in its opt
    if handler.opt.get("rate_limited") or any(name.startswith("rate_limited") for name in _guard_names(handler)):
        statuses.add(429)
    statuses.add(503)
    return sorted(statuses)


def document_problems(handlers: Iterable[HTTPRouteHandler]) -> None:
    """Add a problem+json response for each error status of each handler to its OpenAPI operation."""
    for handler in handlers:
        documented = dict(handler.responses or {})
        for status in error_statuses(handler):
            documented.setdefault(status, ResponseSpec(
                data_container=Problem, media_type=PROBLEM_JSON, description=_DESCRIPTIONS[status],
                generate_examples=False,
            ))
        handler.responses = documented
