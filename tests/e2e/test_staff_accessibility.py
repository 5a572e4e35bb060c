"""axe-core (WCAG 2.1 A and AA) on every staff page, at desktop width and at 375 px, with the
error states of the staff forms. The walk fails if a staff page route was not checked, so a new
staff page cannot slip in without an accessibility check."""

from __future__ import annotations

import re

import pytest
from litestar.routes import HTTPRoute

from pb import demo
from tests.e2e.conftest import run_services, shot, sign_in
from tests.e2e.staff_steps import first_grant, staff_emails, waiting_proposal
from tests.e2e.test_accessibility import DOWNLOADS, Walk, _pattern

pytestmark = pytest.mark.browser


def staff_routes() -> list[str]:
    from pb.app import create_app
    from pb.settings import load_settings

    app = create_app(load_settings({}, database_url="sqlite:///:memory:"))
    return sorted({route.path for route in app.routes if isinstance(route, HTTPRoute) and "GET" in route.methods
                   and "/staff" in route.path and not route.path.startswith("/api")
                   and not route.path.endswith(DOWNLOADS)})


@pytest.mark.parametrize("width", [1280, 375])
def test_every_staff_page_has_no_axe_violations(site, open_page, width, tmp_path):
    world, walk = site.world, Walk(site, width)
    org, past, ideas = world.org_id, world.past_round, world.open_ideas_round
    proposal = run_services(site.settings, lambda: waiting_proposal(org, ideas, f"Axe staff {width}"))
    grant, budget = run_services(site.settings, lambda: first_grant(org, past))
    staff = f"/orgs/{org}/staff"
    page = open_page(width=width, bypass_csp=True)
    sign_in(page, site, staff_emails()["official"], demo.DEMO_PASSWORD)
    for path in (staff, f"{staff}/rounds/new", f"{staff}/rounds/{past}", f"{staff}/rounds/{ideas}",
                 f"{staff}/rounds/{ideas}/edit", f"{staff}/rounds/{ideas}/budgets/new", f"{staff}/rounds/{past}/edit",
                 f"{staff}/rounds/{ideas}/preview", f"{staff}/rounds/{world.formats_round}/preview",
                 f"{staff}/rounds/{ideas}/phase/review", f"{staff}/rounds/{past}/phase/voting",
                 f"{staff}/census", f"{staff}/members", f"{staff}/rounds/{ideas}/reviews",
                 f"{staff}/proposals/{proposal}/review", f"{staff}/rounds/{past}/results",
                 f"{staff}/rounds/{past}/publish", f"{staff}/rounds/{past}/check", f"{staff}/rounds/{past}/grants",
                 f"{staff}/grants/{grant}", f"{staff}/audit", f"{staff}/audit/verify",
                 f"{staff}/rounds/{world.formats_round}/check"):
        walk.visit(page, path)
        if path in (staff, f"{staff}/rounds/{past}", f"{staff}/rounds/{ideas}/phase/review", f"{staff}/census",
                    f"{staff}/grants/{grant}", f"{staff}/audit"):
            shot(page, site, "official" + path.removeprefix(staff).replace("/", "-"))
    walk.visit(page, f"{staff}/rounds/{world.ideas_round}/budgets/{world.ideas_budget}")
    # error states: each form sent wrong keeps the input and names the fields
    walk.visit(page, f"{staff}/rounds/new")
    page.click("form.staff-form button[type=submit]")
    walk.check(page, "round form errors")
    walk.visit(page, f"{staff}/rounds/{ideas}/budgets/new")
    page.check("#format-cumulative")
    page.click("form.staff-form button[type=submit]")
    walk.check(page, "budget form errors")
    walk.visit(page, f"{staff}/rounds/{ideas}/phase/review")
    page.click("form.staff-form button[type=submit]")
    walk.check(page, "confirmation missing")
    bad = tmp_path / "bad.csv"
    bad.write_text("identifier,district\n,north\n")
    walk.visit(page, f"{staff}/census")
    page.set_input_files("#file", str(bad))
    page.click("form.staff-form button[type=submit]")
    walk.check(page, "census refused")
    walk.visit(page, f"{staff}/grants/{grant}")
    if page.locator("form[action$='/tranches'] button").count():
        page.click("form[action$='/tranches'] button")
        walk.check(page, "tranche form errors")
    walk.visit(page, f"{staff}/proposals/{proposal}/review")
    page.click("form.staff-form button[type=submit]")
    walk.check(page, "review form errors")

    auditor = open_page(width=width, bypass_csp=True)
    sign_in(auditor, site, staff_emails()["auditor"], demo.DEMO_PASSWORD)
    for path in (staff, f"{staff}/rounds/{past}", f"{staff}/rounds/{past}/check", f"{staff}/grants/{grant}",
                 f"{staff}/members", f"{staff}/census"):
        walk.visit(auditor, path)
        shot(auditor, site, "auditor" + path.removeprefix(staff).replace("/", "-"))
    walk.visit(auditor, f"{staff}/audit/verify")
    shot(auditor, site, "auditor-audit-verify")

    unchecked = [r for r in staff_routes() if not any(_pattern(r).match(path) for path in walk.visited)]
    assert not unchecked, f"staff page routes without an axe check: {unchecked}"
    assert not walk.violations, "\n".join(walk.violations)
