"""Staff pages over HTTP: the route table of who may open each staff page and use each staff form.

One walk per engine over the demo city: every staff route is opened (GET) and posted to as a
visitor, a citizen, a reviewer, an official, an auditor and an official of another organisation.
The test fails when a role reaches a page or action the table does not give it, when a page shows
a form whose action the role may not use, when a refused action changes anything (the audit chain
does not grow), or when a staff route of the app is missing from the table.
"""

from __future__ import annotations

import re

import pytest
from litestar.routes import HTTPRoute

from pb import demo
from pb.accounts import repo as accounts_repo
from pb.audit import service as audit_service
from pb.grants import service as grants_service
from pb.proposals import service as proposals_service
from pb.rounds import service as rounds_service
from tests.api.test_web import browser_sign_in, csrf_of
from tests.helpers import create_organisation, sign_up_and_log_in

pytestmark = [pytest.mark.anyio, pytest.mark.db]

ALL, OVERSEE, OFFICIAL, REVIEW = ("official", "reviewer", "auditor"), ("official", "auditor"), ("official",), \
    ("official", "reviewer")
O = "/orgs/{org_id}/staff"
R = O + "/rounds/{round_id}"
G = O + "/grants/{grant_id}"
T = G + "/tranches/{tranche_id}"
# (method, route, roles allowed) — the same roles as the API's guards for the same use case
TABLE = [
    ("GET", O, ALL), ("GET", O + "/rounds/new", OFFICIAL), ("POST", O + "/rounds/new", OFFICIAL),
    ("GET", R, ALL), ("GET", R + "/edit", OFFICIAL), ("POST", R + "/edit", OFFICIAL),
    ("GET", R + "/budgets/new", OFFICIAL), ("POST", R + "/budgets/new", OFFICIAL),
    ("GET", R + "/budgets/{budget_id}", OFFICIAL), ("POST", R + "/budgets/{budget_id}", OFFICIAL),
    ("GET", R + "/preview", ALL), ("GET", R + "/phase/{target}", OFFICIAL), ("POST", R + "/phase/{target}", OFFICIAL),
    ("GET", O + "/census", OVERSEE), ("POST", O + "/census", OFFICIAL),
    ("GET", O + "/members", OVERSEE), ("POST", O + "/members/{user_id}/roles", OFFICIAL),
    ("GET", R + "/reviews", REVIEW), ("GET", O + "/proposals/{proposal_id}/review", REVIEW),
    ("POST", O + "/proposals/{proposal_id}/review", REVIEW),
    ("GET", R + "/results", OVERSEE), ("POST", R + "/tally", OFFICIAL), ("GET", R + "/publish", OFFICIAL),
    ("POST", R + "/publish", OFFICIAL), ("GET", R + "/check", OVERSEE), ("GET", R + "/results.json", OVERSEE),
    ("GET", R + "/results.csv", OVERSEE),
    ("GET", R + "/grants", OVERSEE), ("POST", R + "/grants", OFFICIAL), ("GET", G, OVERSEE),
    ("POST", G + "/tranches", OFFICIAL), ("POST", T + "/approve", OFFICIAL), ("POST", T + "/pay", OFFICIAL),
    ("POST", T + "/reverse", OFFICIAL), ("POST", T + "/reversals/{reversal_id}/approve", OFFICIAL),
    ("GET", O + "/audit", OVERSEE), ("GET", O + "/audit/verify", OVERSEE),
]


def _pattern(template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")


def test_every_staff_route_is_in_the_table():
    from pb.app import create_app
    from pb.settings import load_settings

    app = create_app(load_settings({}, database_url="sqlite:///:memory:"))
    routes = {(method, re.sub(r":\w+\}", "}", route.path)) for route in app.routes if isinstance(route, HTTPRoute)
              and "/staff" in route.path and not route.path.startswith("/api")
              for method in route.methods if method in ("GET", "POST")}
    assert routes == {(m, r) for m, r, _ in TABLE}


def _forms(page: str) -> list[str]:
    return [a for a in re.findall(r'<form method="post" action="([^"]+)"', page) if a != "/logout"]


async def _session(client, email: str, password: str) -> str:
    client.cookies.clear()
    if email:
        response = await browser_sign_in(client, email, password)
        assert response.status_code == 303, email
    return csrf_of((await client.get("/me" if email else "/login")).text)


async def test_staff_pages_and_actions_follow_the_role_table(client, settings):
    report = await demo.ensure_demo(settings.with_overrides(demo_voters=12))
    org = report.organisation_id
    official = await accounts_repo.actor((await accounts_repo.user_by_email(f"official@{demo.DEMO_DOMAIN}")).id, org)
    rounds = await rounds_service.list_rounds(org, include_drafts=True)
    funded = next(r for r in rounds if r.phase == "funding")
    budget = (await rounds_service.round_view(org, funded.id, include_draft=True)).budgets[0]
    grant = (await grants_service.list_grants(official, funded.id))[0]
    tranche = (await grants_service.grant_detail(official, grant.id)).tranches[0]
    proposal = (await proposals_service.list_proposals(official, funded.id))[0]
    values = {"org_id": org, "round_id": funded.id, "budget_id": budget.id, "grant_id": grant.id,
              "tranche_id": tranche.id, "reversal_id": 1, "proposal_id": proposal.id, "user_id": official.user_id, "target": "completed"}
    await create_organisation(client, "elsewhere")
    outsider = (await accounts_repo.list_members(2))[0]
    outsider_email = (await accounts_repo.user_by_id(outsider.user_id)).email
    await sign_up_and_log_in(client, "plaincitizen")
    from pb.accounts import service as accounts_service
    await accounts_service.join_organisation((await accounts_repo.user_by_email("plaincitizen@example.org")).id, org)

    people = {"visitor": ("", ""), "citizen": ("plaincitizen@example.org", "correct horse battery"),
              "reviewer": (f"reviewer@{demo.DEMO_DOMAIN}", demo.DEMO_PASSWORD),
              "official": (f"official@{demo.DEMO_DOMAIN}", demo.DEMO_PASSWORD),
              "auditor": (f"auditor@{demo.DEMO_DOMAIN}", demo.DEMO_PASSWORD),
              "other organisation": (outsider_email, "correct horse battery")}
    problems = []
    for who, (email, password) in people.items():
        token = await _session(client, email, password)
        for method, template, allowed in TABLE:
            path = template.format(**values)
            may = who in allowed
            if method == "GET":
                response = await client.get(path)
                expected = 200 if may else 303 if who == "visitor" else 404 if who == "other organisation" else 403
                if response.status_code != expected:
                    problems.append(f"{who} GET {path}: {response.status_code}, expected {expected}")
                for action in _forms(response.text) if response.status_code == 200 else []:
                    routes = [(r, roles) for m, r, roles in TABLE if m == "POST" and _pattern(r).match(action)]
                    if not routes or who not in routes[0][1]:
                        problems.append(f"{who} is shown a form to {action} on {path}")
            elif not may:
                before = (await audit_service.verify(org)).events_checked
                response = await client.post(path, data={"_csrf_token": token, "confirm": "yes", "reference": "x",
                                                         "amount": "1", "condition": "x", "role": "official"},
                                             files={"file": ("c.csv", b"identifier,district\nX-1,north\n")}
                                             if path.endswith("/census") else None)
                refused = {303} if who == "visitor" else {403, 404}
                if response.status_code not in refused:
                    problems.append(f"{who} POST {path}: {response.status_code}")
                if (await audit_service.verify(org)).events_checked != before:
                    problems.append(f"{who} POST {path} changed something")
    assert not problems, "\n".join(problems)


async def test_every_staff_page_is_translated_with_no_english_left(client, settings):
    """Completeness for the staff pages: read in each of the five other languages by an official
    and an auditor, no English sentence of the catalogue is left (names and hashes aside)."""
    from babel.messages.pofile import read_po

    from pb.web import i18n

    with (i18n.LOCALES_DIR / "pl" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        sentences = {m.id for m in read_po(handle) if isinstance(m.id, str) and len(m.id) > 12 and "%" not in m.id}
    report = await demo.ensure_demo(settings.with_overrides(demo_voters=12))
    org = report.organisation_id
    official = await accounts_repo.actor((await accounts_repo.user_by_email(f"official@{demo.DEMO_DOMAIN}")).id, org)
    rounds = await rounds_service.list_rounds(org, include_drafts=True)
    funded, voting = (next(r for r in rounds if r.phase == phase) for phase in ("funding", "voting"))
    grant = (await grants_service.list_grants(official, funded.id))[0]
    budget = (await rounds_service.round_view(org, voting.id, include_draft=True)).budgets[0]
    proposal = (await proposals_service.list_proposals(official, voting.id))[0]
    pages = [O, O + "/rounds/new", R, R + "/edit", R + "/budgets/new", R + "/budgets/{budget_id}", R + "/preview",
             R + "/phase/closed", O + "/census", O + "/members", R + "/reviews", O + "/proposals/{proposal_id}/review",
             O + "/audit", O + "/audit/verify"]
    done_pages = [R + "/results", R + "/check", R + "/grants", G]
    values = {"org_id": org, "round_id": voting.id, "budget_id": budget.id, "proposal_id": proposal.id}
    done = {"org_id": org, "round_id": funded.id, "grant_id": grant.id}
    paths = [p.format(**values) for p in pages] + [p.format(**done) for p in done_pages]
    for who in ("official", "auditor"):
        await _session(client, f"{who}@{demo.DEMO_DOMAIN}", demo.DEMO_PASSWORD)
        for language in ("pl", "de", "fr", "es", "pt"):
            for path in paths:
                response = await client.get(path, headers={"accept-language": language})
                if response.status_code == 403:
                    continue
                assert response.status_code in (200, 409), (who, path, response.status_code)
                left = sorted(s for s in sentences if s in response.text)
                assert not left, f"{who} {language} {path}: {left[:5]}"


async def test_a_staff_form_without_its_csrf_token_is_refused_and_changes_nothing(client, settings):
    report = await demo.ensure_demo(settings.with_overrides(demo_voters=12))
    org = report.organisation_id
    await _session(client, f"official@{demo.DEMO_DOMAIN}", demo.DEMO_PASSWORD)
    before = (await audit_service.verify(org)).events_checked
    for token in (None, "forged-token"):
        data = {"title": "Sneaky", "max_proposal_amount": "100", "tally_rule": "greedy"}
        if token:
            data["_csrf_token"] = token
        response = await client.post(f"/orgs/{org}/staff/rounds/new", data=data)
        assert response.status_code == 403
    assert (await audit_service.verify(org)).events_checked == before
    assert all(r.title != "Sneaky" for r in await rounds_service.list_rounds(org, include_drafts=True))
