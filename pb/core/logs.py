"""Structured logging (structlog, one JSON object per line) and request ids.

Every request gets a random id, sent back in the ``X-Request-ID`` header and in every problem body,
so a person reporting an error can be matched with its log line. Log events carry only ids,
statuses, methods and route templates: never bodies, headers, query strings, raw paths (receipts
travel in paths) nor exception messages (a database error can quote the email or identifier it
refused). A server error's traceback is logged as its frames and exception types for that reason.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from typing import Any

import structlog
from litestar.types import Message, Scope

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_HEADER = REQUEST_ID_HEADER.encode()
_STATE_KEY = "pb_request_id"
LOGGER_NAME = "pb"


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stderr through the standard library's ``pb`` logger (so test capture works)."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(sort_keys=True),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)


def get_logger(name: str) -> Any:
    return structlog.get_logger(f"{LOGGER_NAME}.{name}")


def request_id(scope: Scope) -> str:
    """This request's id, made on first use (routing errors never reach a middleware)."""
    state = scope.setdefault("state", {})  # type: ignore[typeddict-item]
    if _STATE_KEY not in state:
        state[_STATE_KEY] = os.urandom(16).hex()  # 128 random bits; uuid4() costs twice as much
    return state[_STATE_KEY]


async def send_request_id(message: Message, scope: Scope) -> None:
    """``before_send`` hook: every HTTP response carries its request id."""
    if message["type"] == "http.response.start":
        message["headers"] = [*message.get("headers", []), (_REQUEST_ID_HEADER, request_id(scope).encode())]


def route_of(scope: Scope) -> str:
    """The route template (``/api/orgs/{org_id:int}/…``), never the raw path with its values."""
    return scope.get("path_template") or "(no route)"  # type: ignore[return-value]


def describe_exception(error: BaseException) -> list[dict[str, Any]]:
    """The exception chain as types and frames, without messages (they may quote personal data)."""
    chain: list[dict[str, Any]] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 5:
        frames = traceback.extract_tb(current.__traceback__)
        chain.append({
            "type": f"{type(current).__module__}.{type(current).__qualname__}",
            "frames": [f"{frame.filename}:{frame.lineno} in {frame.name}: {frame.line}" for frame in frames],
        })
        current = current.__cause__ or current.__context__
    return chain
