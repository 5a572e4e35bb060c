"""The pages over HTTP (no browser): home, sessions, CSRF, languages, errors, public reading.

Browser journeys and the axe checks are in tests/e2e; these are the fast checks of the same pages.
"""

from __future__ import annotations

import re

import pytest

from pb import demo
from pb.web import i18n
from tests.helpers import PASSWORD, create_organisation, sign_up_and_log_in

pytestmark = [pytest.mark.anyio, pytest.mark.db]


def csrf_of(page: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)


async def browser_sign_in(client, email: str, password: str = PASSWORD):
    page = await client.get("/login")
    return await client.post("/login", data={"email": email, "password": password, "_csrf_token": csrf_of(page.text)})


async def test_home_without_organisations_says_how_to_start(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'href="/schema/swagger"' in response.text
    assert "pb demo" in response.text


async def test_home_lists_the_demo_rounds_with_their_phase_and_links(client, settings):
    report = await demo.ensure_demo(settings.with_overrides(demo_voters=12))
    page = (await client.get("/", headers={"accept-language": "en"})).text
    assert demo.DEMO_CITY in page
    assert "Riverton decides 2025" in page and "Riverton decides 2026" in page
    assert "badge-phase-funding" in page and "badge-phase-voting" in page
    assert f'href="/orgs/{report.organisation_id}/rounds/1"' in page


async def test_sign_in_sets_an_httponly_lax_session_that_sign_out_ends_on_the_server(client):
    await sign_up_and_log_in(client, "ada")
    response = await browser_sign_in(client, "ada@example.org")
    assert response.status_code == 303 and response.headers["location"] == "/me"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("pb_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax") and "Secure" not in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert (await client.get("/me")).status_code == 200
    me = await client.get("/me")
    await client.post("/logout", data={"_csrf_token": csrf_of(me.text)})
    # the old cookie, replayed, no longer works: the session row is gone
    client.cookies.set("pb_session", token)
    replay = await client.get("/me")
    assert replay.status_code == 303 and replay.headers["location"].startswith("/login")


async def test_a_wrong_password_is_named_by_the_field_and_the_email_is_kept(client):
    await sign_up_and_log_in(client, "bob")
    response = await browser_sign_in(client, "bob@example.org", "not the password")
    assert response.status_code == 422
    assert 'id="password-error"' in response.text and 'value="bob@example.org"' in response.text
    assert "not the password" not in response.text


async def test_a_form_without_or_with_a_forged_csrf_token_is_refused_and_changes_nothing(client):
    page = await client.get("/signup")
    body = {"email": "eve@example.org", "password": "long enough password", "display_name": "Eve"}
    missing = await client.post("/signup", data=body)
    forged = await client.post("/signup", data={**body, "_csrf_token": "0" * 128})
    for response in (missing, forged):
        assert response.status_code == 403 and "text/html" in response.headers["content-type"]
    assert (await browser_sign_in(client, "eve@example.org", "long enough password")).status_code == 422
    accepted = await client.post("/signup", data={**body, "_csrf_token": csrf_of(page.text)})
    assert accepted.status_code == 303


async def test_the_json_api_keeps_bearer_tokens_and_needs_no_csrf(client):
    user_id, headers = await sign_up_and_log_in(client, "carol")
    assert (await client.get("/api/me", headers=headers)).json()["id"] == user_id


async def test_language_comes_from_accept_language_then_the_remembered_choice(client):
    assert '<html lang="de"' in (await client.get("/", headers={"accept-language": "de-AT,de;q=0.9"})).text
    assert '<html lang="en"' in (await client.get("/", headers={"accept-language": "ja"})).text
    response = await client.get("/language/pt?next=/login")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert '<html lang="pt"' in (await client.get("/login", headers={"accept-language": "de"})).text
    assert (await client.get("/language/pt?next=//evil.example")).headers["location"] == "/"


async def test_another_organisations_ids_give_a_404_page(client, settings):
    report = await demo.ensure_demo(settings.with_overrides(demo_voters=12))
    other, _ = await create_organisation(client, "elsewhere")
    for path in (f"/orgs/{other}/rounds/1", f"/orgs/{other}/proposals/1", f"/orgs/{other}/rounds/1/results",
                 f"/orgs/{report.organisation_id}/rounds/999", "/orgs/999/rounds/1/proposals"):
        response = await client.get(path)
        assert response.status_code == 404 and "text/html" in response.headers["content-type"], path


async def test_public_proposals_hide_drafts_and_filter_sort_and_page(client, settings):
    report = await demo.ensure_demo(settings.with_overrides(demo_voters=12))
    url = f"/api/orgs/{report.organisation_id}/rounds/2/public-proposals"
    everything = (await client.get(url)).json()
    titles = {p["title"] for p in everything["proposals"]}
    assert "Dog park" not in titles  # the demo's draft
    assert "Paint the water tower" in titles  # ineligible, listed with its reason on its page
    assert everything["total"] == len(everything["proposals"]) == 9
    found = (await client.get(url, params={"q": "LIGHTING"})).json()
    assert [p["title"] for p in found["proposals"]] == ["Riverside path lighting"]
    cheap = (await client.get(url, params={"max_cost": 1_200_000, "sort": "cost_asc"})).json()["proposals"]
    costs = [p["final_cost"] or p["requested_amount"] for p in cheap]
    assert costs == sorted(costs) and all(cost <= 1_200_000 for cost in costs)
    assert (await client.get(url, params={"q": "%"})).json()["total"] == 0  # LIKE wildcards are literal
    draft_id = next(p.id for p in await _proposals(report.organisation_id, 2) if p.status == "draft")
    assert (await client.get(f"/api/orgs/{report.organisation_id}/public-proposals/{draft_id}")).status_code == 404
    assert (await client.get(f"/orgs/{report.organisation_id}/proposals/{draft_id}")).status_code == 404


async def _proposals(organisation_id: int, round_id: int):
    from pb.proposals import repo

    return await repo.list_proposals(round_id)


async def test_funded_projects_are_public_once_results_are_published(client, settings):
    report = await demo.ensure_demo(settings.with_overrides(demo_voters=12))
    funded = (await client.get(f"/api/orgs/{report.organisation_id}/rounds/1/funded")).json()
    assert funded and all(project["paid"] <= project["amount"] for project in funded)
    assert sum(project["paid"] for project in funded) == sum(
        t["amount"] for project in funded for t in project["tranches"] if t["status"] == "paid")
    assert "grantee_user_id" not in funded[0] and "reference" not in funded[0]["tranches"][0]
    assert (await client.get(f"/api/orgs/{report.organisation_id}/rounds/2/funded")).status_code == 404


async def test_every_page_string_is_translated_and_no_english_is_left_on_translated_pages(client, settings):
    """Completeness: every catalogue translates every message; a page read in another language
    contains none of the English sentences of the catalogue (proposal texts aside)."""
    from babel.messages.pofile import read_po

    english = set()
    for language in i18n.LANGUAGES:
        if language == "en":
            continue
        with (i18n.LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle)
        untranslated = [m.id for m in catalog if m.id and not (m.string if isinstance(m.string, str)
                                                                 else all(m.string))]
        assert not untranslated, f"{language}: {untranslated[:5]}"
        english |= {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    report = await demo.ensure_demo(settings.with_overrides(demo_voters=12))
    org = report.organisation_id
    sentences = {s for s in english if len(s) > 12 and "%" not in s}
    for language in ("pl", "de", "fr", "es", "pt"):
        for path in ("/", "/login", "/signup", f"/orgs/{org}/rounds/2", f"/orgs/{org}/rounds/2/proposals",
                     f"/orgs/{org}/rounds/1/results", f"/orgs/{org}/rounds/1/funded", f"/orgs/{org}/rounds/2/check",
                     f"/orgs/{org}/proposals/9"):
            page = (await client.get(path, headers={"accept-language": language})).text
            left = sorted(s for s in sentences if s in page)
            assert not left, f"{language} {path}: {left[:5]}"


async def test_the_author_appeals_through_the_page_and_an_empty_reason_is_named(client):
    from tests.steps_rounds import review, round_in_review

    world = await round_in_review(client)
    org, proposal_id = world["org_id"], world["proposals"]["north"][0]  # written by the first citizen
    author = world["citizens"][0]["headers"]
    await review(client, org, proposal_id, world["reviewer"], "ineligible", reason="Private land.")
    await browser_sign_in(client, (await client.get("/api/me", headers=author)).json()["email"])
    page = await client.get(f"/orgs/{org}/proposals/{proposal_id}")
    assert "Private land." in page.text and f"/proposals/{proposal_id}/appeal" in page.text
    url = f"/orgs/{org}/proposals/{proposal_id}/appeal"
    empty = await client.post(url, data={"reason": " ", "_csrf_token": csrf_of(page.text)})
    assert 'id="reason-error"' in (await client.get(empty.headers["location"])).text
    sent = await client.post(url, data={"reason": "It is public land.", "_csrf_token": csrf_of(page.text)})
    assert sent.status_code == 303
    public = (await client.get(f"/api/orgs/{org}/public-proposals/{proposal_id}")).json()
    assert public["status"] == "appealed" and public["appeal_reason"] == "It is public land."


async def test_a_draft_saved_through_the_form_is_private_until_submitted_and_can_be_withdrawn(client):
    from tests.steps_rounds import round_in_submission

    world = await round_in_submission(client, citizens=1)
    org, round_id = world["org_id"], world["round_id"]
    await browser_sign_in(client, (await client.get("/api/me", headers=world["citizens"][0]["headers"])).json()["email"])
    form = await client.get(f"/orgs/{org}/rounds/{round_id}/propose")
    body = {"_csrf_token": csrf_of(form.text), "budget_id": str(world["budgets"]["north"]), "title": "Pond",
            "summary": "A small pond.", "line_label": ["Digging", "Plants"], "line_amount": ["100", "20,50"],
            "co_proposers": "", "action": "save"}
    saved = await client.post(f"/orgs/{org}/rounds/{round_id}/propose", data=body)
    assert saved.status_code == 303
    proposal_id = int(saved.headers["location"].rsplit("/", 1)[1])
    assert (await client.get(f"/api/orgs/{org}/public-proposals/{proposal_id}")).status_code == 404
    mine = await client.get(saved.headers["location"])
    assert "€120.50" in mine.text  # 100 + 20,50 typed the way people type money
    withdrawn = await client.post(f"/orgs/{org}/proposals/{proposal_id}/withdraw",
                                  data={"_csrf_token": csrf_of(mine.text)})
    assert withdrawn.status_code == 303
    assert "badge-withdrawn" in (await client.get(saved.headers["location"])).text
