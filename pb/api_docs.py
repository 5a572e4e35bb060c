"""The API documentation pages, /schema/swagger and /schema/scalar, from vendored assets.

Litestar's render plugins load Swagger UI and Scalar from a CDN by default (Scalar even
``@latest``), which leaves the pages blank on a machine without internet and runs whatever the
CDN serves today. pb serves pinned copies from frontend/static/vendor/ instead (each folder has a
VERSION file with its source and licence, and SHA256SUMS).
"""

from __future__ import annotations

from litestar.openapi.plugins import OpenAPIRenderPlugin, ScalarRenderPlugin, SwaggerRenderPlugin

VENDOR_URL = "/static/vendor"
SWAGGER_UI = f"{VENDOR_URL}/swagger-ui-dist"
SCALAR = f"{VENDOR_URL}/scalar-api-reference"
FAVICON = f"<link rel='icon' type='image/png' href='{SWAGGER_UI}/favicon-32x32.png'>"


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """Swagger UI at /schema/swagger (also the default /schema page) and Scalar at /schema/scalar."""
    return [
        SwaggerRenderPlugin(
            js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
            css_url=f"{SWAGGER_UI}/swagger-ui.css",
            standalone_preset_js_url=f"{SWAGGER_UI}/swagger-ui-standalone-preset.js",
            favicon=FAVICON,
        ),
        ScalarRenderPlugin(
            path="/scalar",
            js_url=f"{SCALAR}/standalone.js",
            css_url="/static/api-docs.css",
            favicon=FAVICON,
            # Scalar's bundle carries its own styles; its default fonts would come from its CDN.
            # Its AI agent and developer toolbar are hosted Scalar services: off.
            options={"withDefaultFonts": False, "agent": {"disabled": True}, "showDeveloperTools": "never",
                     "mcp": {"disabled": True}},
        ),
    ]


DESCRIPTION = """\
The JSON API of pb: participatory budgeting rounds, proposals, votes, fair tallies, grants and an
audit log. The same service functions serve the web pages.

Conventions a newcomer should know:

- **Money** is an integer in **minor units** of the organisation's currency (cents for EUR):
  `4000000` is 40,000.00 EUR. Never a float.
- **Times** are UTC, ISO 8601 (`2026-05-01T09:00:00Z`); request times must carry their offset.
- **Exact figures** in results are JSON integers when whole, otherwise strings `"n/d"` (a reduced
  fraction): `"2000000/43"` is 2000000 ÷ 43 = 46511.627…; the tally never rounds.
- **Authentication**: `POST /api/auth/login` returns an access token (at most 10 minutes) and a
  refresh token; send `Authorization: Bearer <access token>`. Public routes need no token (Swagger UI
  shows a lock on the others).
- **Errors** are `application/problem+json` with a `detail` sentence naming the problem.
"""
