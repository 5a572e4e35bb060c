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
            options={"withDefaultFonts": False},
        ),
    ]
