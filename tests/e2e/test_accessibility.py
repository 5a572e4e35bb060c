"""axe-core (WCAG 2.1 A and AA) on every citizen page, at desktop width and at 375 px, logged out and in.

The walk records each page it checked; the test fails if any page route of the app (GET, HTML) was
not checked, so a new page cannot slip in without an accessibility check.
"""

from __future__ import annotations

import re

import pytest
from litestar.routes import HTTPRoute

from tests.e2e.conftest import axe_violations, sign_in
from tests.e2e.world import FORMATS, PASSWORD

pytestmark = pytest.mark.browser

NOT_PAGES = ("/api", "/schema", "/static", "/language/")  # the API, docs, files, the language switch redirect
DOWNLOADS = (".json", ".csv")


def page_routes() -> list[str]:
    from pb.app import create_app
    from pb.settings import load_settings

    app = create_app(load_settings({}, database_url="sqlite:///:memory:"))
    return sorted({route.path for route in app.routes if isinstance(route, HTTPRoute) and "GET" in route.methods
                   and not route.path.startswith(NOT_PAGES) and not route.path.endswith(DOWNLOADS)
                   and "/staff" not in route.path})  # staff pages: tests/e2e/test_staff_accessibility.py


def _pattern(template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")


class Walk:
    def __init__(self, site, width: int) -> None:
        self.site, self.width = site, width
        self.visited: set[str] = set()
        self.violations: list[str] = []

    def check(self, page, label: str = "") -> None:
        path = re.sub(r"\?.*$", "", page.url.removeprefix(self.site.base_url))
        self.visited.add(path)
        for violation in axe_violations(page):
            self.violations.append(f"{self.width}px {path} {label}: {violation}")

    def visit(self, page, path: str) -> None:
        page.goto(self.site.url(path))
        self.check(page)


@pytest.mark.parametrize("width", [1280, 375])
def test_every_citizen_page_has_no_axe_violations(site, open_page, width):
    world, walk = site.world, Walk(site, width)
    org, past, open_round = world.org_id, world.past_round, world.open_round
    page = open_page(width=width, bypass_csp=True)
    for path in ("/", "/login", "/signup", f"/orgs/{org}/rounds/{open_round}", f"/orgs/{org}/rounds/{past}",
                 f"/orgs/{org}/rounds/{open_round}/proposals", f"/orgs/{org}/rounds/{past}/proposals?page=1",
                 f"/orgs/{org}/proposals/{world.funded_proposal}", f"/orgs/{org}/rounds/{past}/results",
                 f"/orgs/{org}/rounds/{past}/funded", f"/orgs/{org}/rounds/{open_round}/check",
                 f"/orgs/{org}/rounds/{open_round}/check?receipt=not-a-receipt", "/orgs/999/rounds/1"):
        walk.visit(page, path)
    ineligible = page.goto(site.url(f"/orgs/{org}/rounds/{open_round}/proposals?status=ineligible"))
    assert ineligible.ok
    page.locator(".proposal-card a").first.click()
    walk.check(page, "ineligible proposal")
    page.goto(site.url("/login"))
    page.fill("#email", "nobody@e2e.example")
    page.click("form.narrow button[type=submit]")
    walk.check(page, "login errors")

    signed_in = open_page(width=width, bypass_csp=True)
    cast_in = "ordinal" if width == 1280 else "choose-1"  # one ballot per person: each walk casts with another
    for ballot_format in FORMATS:
        signed_in.context.clear_cookies()
        sign_in(signed_in, site, world.voters[ballot_format][2], PASSWORD)
        base = f"/orgs/{org}/rounds/{world.formats_round}"
        walk.visit(signed_in, f"{base}/vote/{world.budgets[ballot_format]}")
        if ballot_format == "knapsack":
            for box in signed_in.locator(".project-options input").all():
                box.check()
            signed_in.click("button[name=action][value=review]")
            walk.check(signed_in, "ballot refused")
        if ballot_format == "ordinal":
            signed_in.locator("button[value^='add:']").first.click()
            walk.check(signed_in, "ranking with one project")
        if ballot_format == cast_in:
            if ballot_format == "choose-1":
                signed_in.locator(".project-options input").first.check()
            signed_in.click("button[name=action][value=review]")
            walk.check(signed_in, "review step")
            signed_in.click("button[name=action][value=cast]")
            signed_in.wait_for_url(re.compile(r".*/receipts/[0-9a-f]{64}\?new=1$"))
            walk.check(signed_in, "new receipt")
    walk.visit(signed_in, "/me")
    walk.visit(signed_in, f"/orgs/{org}/census")
    walk.visit(signed_in, f"/orgs/{org}/rounds/{world.formats_round}/vote")
    walk.visit(signed_in, f"/orgs/{org}/rounds/{world.open_ideas_round}/propose")
    signed_in.click("button[name=action][value=save]")
    walk.check(signed_in, "proposal form errors")
    signed_in.fill("#title", f"Axe walk {width}")
    signed_in.select_option("#budget_id", index=1)
    signed_in.fill("#summary", "Checked by axe.")
    signed_in.fill("#line-label-0", "Paint")
    signed_in.fill("#line-amount-0", "100")
    signed_in.click("button[name=action][value=save]")
    signed_in.wait_for_url(re.compile(r".*/proposals/\d+$"))
    walk.check(signed_in, "own draft")
    signed_in.click("a[href$='/edit']")
    walk.check(signed_in, "edit form")

    routes = page_routes()
    unchecked = [r for r in routes if not any(_pattern(r).match(path) for path in walk.visited)]
    assert not unchecked, f"page routes without an axe check: {unchecked}"
    assert not walk.violations, "\n".join(walk.violations)
