"""Security headers on every response, as a Litestar ``before_send`` hook.

A hook rather than a route middleware because it also sees what no route handles: unknown paths
(404), wrong methods (405), static files and errors.

- Content-Security-Policy: scripts, styles, images, fonts and connections from this origin only;
  no plugins, no <base>, forms post here only, and no framing (``frame-ancestors 'none'``, with
  ``X-Frame-Options: DENY`` for older browsers).
- The API documentation pages (HTML under ``/schema``) are built by Litestar with inline
  ``<script>`` blocks (Swagger UI's embeds the whole OpenAPI document). They get a fresh nonce per
  response, written into each inline ``<script>`` tag (never one with ``src``: a script loaded by
  URL must come from this origin) and into ``script-src``; there is no
  ``'unsafe-inline'`` for scripts anywhere. Their styles do allow inline (Swagger UI and Scalar set
  style attributes from JavaScript): styles cannot run code.
- X-Content-Type-Options: nosniff; Referrer-Policy: no-referrer (receipt URLs stay private);
  Cross-Origin-Opener-Policy: same-origin.
- Strict-Transport-Security when the public URL is https (a year; subdomains are left alone, the
  city may run others over plain http).
- Cache-Control: no-store on tokens (``/api/auth/…``) and on every response to a request that
  carries credentials (``Authorization`` or a cookie), so no shared or browser cache keeps them.
"""

from __future__ import annotations

import re
import secrets
from typing import Awaitable, Callable

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

DOCS_PREFIX = "/schema"
TOKEN_PREFIX = "/api/auth/"
HSTS = "max-age=31536000"
_NONCE_KEY = "pb.csp_nonce"
_SCRIPT_TAG = re.compile(rb"<script(?=[\s>])([^>]*)>", re.IGNORECASE)
_SRC_ATTRIBUTE = re.compile(rb"\ssrc\s*=", re.IGNORECASE)

_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy(script_nonce: str | None = None) -> str:
    """The policy for pages of ours; with a nonce, the one for the inline-scripted docs pages."""
    policy = dict(_POLICY)
    if script_nonce:
        policy["script-src"] = f"'self' 'nonce-{script_nonce}'"
        policy["style-src"] = "'self' 'unsafe-inline'"
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def _carries_credentials(scope: Scope) -> bool:
    for name, _ in scope.get("headers", ()):
        if name == b"authorization" or name == b"cookie":
            return True
    return False


def _is_docs_page(scope: Scope, message: Message) -> bool:
    if not scope["path"].startswith(DOCS_PREFIX):
        return False
    return MutableScopeHeaders.from_message(message).get("content-type", "").startswith("text/html")


def _replacing(headers: list[tuple[bytes, bytes]], ours: list[tuple[bytes, bytes]],
               names: frozenset[bytes]) -> list[tuple[bytes, bytes]]:
    """``headers`` with ``ours`` (whose ``names``) set: a header of the same name the response had is dropped."""
    return [pair for pair in headers if pair[0].lower() not in names] + ours


def _with_nonce(html: bytes, nonce: str) -> bytes:
    """Mark the inline scripts only: a script loaded by URL must pass script-src on its own."""

    def mark(tag: re.Match[bytes]) -> bytes:
        if _SRC_ATTRIBUTE.search(tag[1]):
            return tag[0]
        return b'<script nonce="' + nonce.encode() + b'"' + tag[1] + b">"

    return _SCRIPT_TAG.sub(mark, html)


def security_headers(public_url: str) -> Callable[[Message, Scope], Awaitable[None]]:
    """The before_send hook for an app served at ``public_url``. The headers are encoded once here:
    the hook runs for every response."""
    fixed = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
             (b"referrer-policy", b"no-referrer"), (b"cross-origin-opener-policy", b"same-origin")]
    if public_url.lower().startswith("https://"):
        fixed.append((b"strict-transport-security", HSTS.encode()))
    fixed_no_store = [*fixed, (b"cache-control", b"no-store")]
    csp = (b"content-security-policy", content_security_policy().encode())
    # Built once: the hook runs for every response. The policy comes first (the docs pages replace it).
    usual = ([csp, *fixed], frozenset(name for name, _ in [csp, *fixed]))
    no_store_too = ([csp, *fixed_no_store], frozenset(name for name, _ in [csp, *fixed_no_store]))

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if scope["type"] != "http":
            return
        if message["type"] == "http.response.body":
            nonce = scope.get(_NONCE_KEY)
            if nonce and message.get("body"):
                message["body"] = _with_nonce(message["body"], nonce)
            return
        if message["type"] != "http.response.start":
            return
        no_store = scope["path"].startswith(TOKEN_PREFIX) or _carries_credentials(scope)
        ours, names = no_store_too if no_store else usual
        if _is_docs_page(scope, message):
            nonce = scope[_NONCE_KEY] = secrets.token_urlsafe(18)  # type: ignore[literal-required]
            del MutableScopeHeaders.from_message(message)["content-length"]  # the body grows by the nonces
            ours = [(b"content-security-policy", content_security_policy(nonce).encode()), *ours[1:]]
        message["headers"] = _replacing(message.get("headers") or [], ours, names)

    return add_security_headers
