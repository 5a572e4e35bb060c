"""Browser tests: Debian's chromium driven by Playwright against the real app served by uvicorn.

Per engine (SQLite, PostgreSQL) one database is built with ``tests/e2e/world.py`` and one uvicorn
process serves it on a port in 8350-8399; one chromium runs for the whole session, each test gets
a fresh browser context (its own cookies). The SQLite run reads the pages in English, the
PostgreSQL run in Polish, so every journey is checked in two languages without running twice per
engine.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from tests.conftest import ENGINES, POSTGRES_ADMIN_URL, _postgres_url_for

CHROMIUM = os.environ.get("PB_CHROMIUM", "/usr/bin/chromium")
# PB_E2E_PORTS="8450-8499" moves the servers to another range (several test runs on one machine)
PORTS = range(int(os.environ.get("PB_E2E_PORTS", "8350-8399").split("-")[0]),
              int(os.environ.get("PB_E2E_PORTS", "8350-8399").split("-")[1]) + 1)
LANGUAGE_OF_ENGINE = {"sqlite": "en", "postgres": "pl"}
AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js").read_text()
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ROOT = Path(__file__).resolve().parents[2]


def in_thread(work: Callable[[], Any]) -> Any:
    """Run ``work`` (which may call asyncio.run) in its own thread: Playwright's sync API owns this one."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = work()
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller
            box["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def run_services(settings, coroutine_factory: Callable[[], Any]) -> Any:
    """Call service functions on the site's database from the test process (staff steps, checks)."""
    def work() -> Any:
        from pb import db

        async def main() -> Any:
            db.bind_engine(db.make_engine(settings.database_url))
            return await coroutine_factory()

        return asyncio.run(main())

    return in_thread(work)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1} for the browser tests' server")


@dataclass
class Site:
    engine: str
    base_url: str
    language: str
    settings: Any
    world: Any

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One chromium per test module (two in all). Not per session: Playwright's sync API keeps an
    event loop in this thread while it runs, and later tests call asyncio.run."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium; .ci/run does it).",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


def _create_postgres_database(name: str) -> str:
    import asyncpg

    async def create() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    in_thread(lambda: asyncio.run(create()))
    return _postgres_url_for(name)


def _drop_postgres_database(name: str) -> None:
    import asyncpg

    async def drop() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    in_thread(lambda: asyncio.run(drop()))


@pytest.fixture(scope="module", params=ENGINES)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from pb.settings import load_settings
    from tests.e2e import world as world_module

    engine = request.param
    folder = tmp_path_factory.mktemp(f"e2e-{engine}")
    database = f"pb_e2e_{os.getpid()}"
    url = f"sqlite:///{folder}/pb.sqlite" if engine == "sqlite" else _create_postgres_database(database)
    port = _free_port()
    settings = load_settings({}, database_url=url, secrets_dir=folder / "secrets", rate_limit_per_minute=0,
                             public_url=f"http://127.0.0.1:{port}", password_time_cost=1, password_memory_kib=1024,
                             demo_voters=9)

    def seed() -> Any:
        import pb.app  # noqa: F401 - sets PICCOLO_CONF
        from pb import db

        async def main() -> Any:
            db.bind_engine(db.make_engine(url))
            return await world_module.build(settings)

        return asyncio.run(main())

    world = in_thread(seed)
    env = {**os.environ, "PB_DATABASE_URL": url, "PB_SECRETS_DIR": str(folder / "secrets"),
           "PB_SECURITY_RATE_LIMIT_PER_MINUTE": "0", "PB_SECURITY_PASSWORD_TIME_COST": "1",
           "PB_SECURITY_PASSWORD_MEMORY_KIB": "1024", "PB_SERVER_PUBLIC_URL": settings.public_url}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "pb.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(folder / "server.log", "wb"),
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(settings.public_url + "/", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the app did not start: " + (folder / "server.log").read_text()[-2000:])
                time.sleep(0.2)
        yield Site(engine, settings.public_url, LANGUAGE_OF_ENGINE.get(engine, "en"), settings, world)
    finally:
        server.terminate()
        server.wait(timeout=10)
        if engine == "postgres":
            _drop_postgres_database(database)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.failed_in_call = report.failed


@pytest.fixture
def open_page(request: pytest.FixtureRequest, browser, site: Site):
    """``open_page(width=1280, javascript=True)`` -> a page in a fresh context in the site's language."""
    contexts = []

    def make(width: int = 1280, javascript: bool = True, bypass_csp: bool = False):
        context = browser.new_context(
            viewport={"width": width, "height": 900}, java_script_enabled=javascript, bypass_csp=bypass_csp,
            device_scale_factor=0.5 if os.environ.get("PB_SCREENSHOTS") else 1,  # small README pictures
            locale=site.language, extra_http_headers={"Accept-Language": site.language},
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    failures = os.environ.get("PB_E2E_FAILURES")  # folder for a screenshot of each page of a failed test
    for number, context in enumerate(contexts):
        if failures and getattr(request.node, "failed_in_call", False):
            Path(failures).mkdir(parents=True, exist_ok=True)
            for page in context.pages:
                page.screenshot(path=f"{failures}/{request.node.name}-{number}.png", full_page=True)
                Path(f"{failures}/{request.node.name}-{number}.html").write_text(page.content())
        context.close()


def sign_in(page, site: Site, email: str, password: str) -> None:
    page.goto(site.url("/login"))
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.narrow button[type=submit]")
    page.wait_for_url("**/me")


def axe_violations(page) -> list[dict]:
    """Run the vendored axe-core on the current page (WCAG 2.1 A and AA rules)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]]


def shot(page, site: Site, name: str) -> None:
    """With PB_SCREENSHOTS=<folder>: save what the page shows now (the README's pictures come from here)."""
    folder = os.environ.get("PB_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        width = page.viewport_size["width"] if page.viewport_size else 0
        page.screenshot(path=f"{folder}/{name}-{site.language}-{width}.png")
