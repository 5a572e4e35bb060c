"""The API docs pages render from pb's own vendored assets with the network cut off: Swagger UI
at /schema/swagger and Scalar at /schema/scalar, in Debian's chromium driven by playwright.

Every request that does not go to the pb server is aborted and recorded; the pages must render
the API's operations anyway, and must not even try to reach another host.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.server_process import free_port, pb, pb_env, serving

CHROMIUM = "/usr/bin/chromium"
# Screenshots land in the test's tmp folder, or in PB_SCREENSHOT_DIR when set (to look at them).
SCREENSHOTS = os.environ.get("PB_SCREENSHOT_DIR")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api-docs-server")
    env = pb_env()
    migrated = pb("migrate", cwd=folder, env=env)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    port = free_port()
    with serving("serve", "--port", str(port), cwd=folder, env=env, port=port) as (base, _):
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def offline_page(browser, base: str):
    """A page whose requests to any host but the pb server are aborted (and listed)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    ours = urlparse(base).netloc
    blocked: list[str] = []

    def only_pb(route):
        url = route.request.url
        if urlparse(url).netloc == ours or url.startswith("data:"):
            route.continue_()
        else:
            blocked.append(url)
            route.abort("internetdisconnected")

    context.route("**/*", only_pb)
    return context, context.new_page(), blocked


def screenshot(page, tmp_path: Path, name: str) -> Path:
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), full_page=False)
    return path


def test_swagger_ui_renders_offline(server, browser, tmp_path):
    context, page, blocked = offline_page(browser, server)
    try:
        page.goto(f"{server}/schema/swagger")
        page.wait_for_selector(".opblock-summary-path", timeout=30_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert any("/api/auth/login" in path for path in paths), paths[:5]
        assert "participatory budgeting" in page.locator(".info .title").inner_text()
        assert screenshot(page, tmp_path, "swagger-offline.png").stat().st_size > 10_000
    finally:
        context.close()
    assert blocked == []


def test_scalar_renders_offline(server, browser, tmp_path):
    context, page, blocked = offline_page(browser, server)
    try:
        page.goto(f"{server}/schema/scalar")
        page.get_by_text("/api/auth/login").first.wait_for(timeout=30_000)
        assert page.get_by_text("participatory budgeting").first.is_visible()
        assert screenshot(page, tmp_path, "scalar-offline.png").stat().st_size > 10_000
    finally:
        context.close()
    assert blocked == []
