"""The whole round run by staff in a real browser, on both engines (SQLite in English, PostgreSQL
in Polish): set-up, submission, review, census, voting, close, tally, check, publish, grant, four
eyes, payment, and the auditor's verification. Selectors use ids, names and values, never words.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from pb import demo
from tests.e2e.conftest import run_services, shot, sign_in
from tests.e2e.staff_steps import staff_emails, submit_proposals, voters_bind
from tests.e2e.world import PASSWORD

pytestmark = pytest.mark.browser

VOTERS = {"harbour-voter@staff.example": "HB-1", "hills-voter@staff.example": "HL-1"}


def _staff(page, site, who: str) -> None:
    page.context.clear_cookies()
    sign_in(page, site, staff_emails()[who], demo.DEMO_PASSWORD)


def _move(page, base: str, target: str) -> None:
    """Phase control: the move's link, its confirmation page (the box must be ticked), confirm."""
    page.goto(base)
    page.click(f"a[href$='/phase/{target}']")
    expect(page.locator("#confirm")).to_be_visible()
    page.click("form.staff-form button[type=submit]")  # not ticked: refused, nothing moved
    expect(page.locator("#error-summary")).to_be_visible()
    page.check("#confirm")
    page.click("form.staff-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/staff/rounds/\d+\?saved=1$"))
    expect(page.locator(f".badge-phase-{target}")).to_be_visible()


def _add_budget(page, base: str, name: str, kind: str, district: str, amount: str, ballot_format: str,
                **limits: str) -> None:
    page.goto(base + "/budgets/new")
    page.fill("#name", name)
    page.check(f"#kind-{kind}")
    page.fill("#district", district)
    page.fill("#amount", amount)
    page.check(f"#format-{ballot_format}")
    for field, value in limits.items():
        page.fill(f"#{field}", value)
    page.click("form.staff-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/staff/rounds/\d+\?saved=1"))


def _review(page, site, org: int, proposal_id: int, decision: str, reason: str = "", fail: bool = False) -> None:
    page.goto(site.url(f"/orgs/{org}/staff/proposals/{proposal_id}/review"))
    for radio in page.locator("input[type=radio][value=yes]").all():
        radio.check()
    if fail:
        page.locator("input[type=radio][value=no]").first.check()
    page.check(f"#decision-{decision}")
    page.fill("#public_reason", reason)
    page.click("form.staff-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/reviews\?done=\d+$"))


def test_staff_run_a_whole_round_and_the_auditor_checks_it(site, open_page, tmp_path):
    org = site.world.org_id
    page = open_page()
    _staff(page, site, "official")
    page.goto(site.url(f"/orgs/{org}/staff"))
    shot(page, site, "staff-console")
    page.click(f"a[href='/orgs/{org}/staff/rounds/new']")

    # 1. set-up: a bad form keeps what was typed and names the field
    page.fill("#title", "Harbour and hills 2027")
    page.fill("#max_proposal_amount", "ten thousand")
    page.fill("#criterion-label-1", "Benefits the public")
    page.check("#rule-mes")
    page.check("#completion-add1")
    page.click("form.staff-form button[type=submit]")
    expect(page.locator("#error-summary a[href='#max_proposal_amount']")).to_be_visible()
    expect(page.locator("#title")).to_have_value("Harbour and hills 2027")
    expect(page.locator("#criterion-label-1")).to_have_value("Benefits the public")
    expect(page.locator("#rule-mes")).to_be_checked()
    page.fill("#max_proposal_amount", "10000")
    page.fill("#criterion-label-2", "Feasible")
    page.click("form.staff-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/staff/rounds/\d+\?created=1$"))
    round_id = int(re.search(r"/rounds/(\d+)", page.url).group(1))
    base = site.url(f"/orgs/{org}/staff/rounds/{round_id}")
    _add_budget(page, base, "Harbour", "district", "harbour", "6000", "approval", max_projects="2")
    _add_budget(page, base, "Hills", "district", "hills", "6000", "approval")
    _add_budget(page, base, "Whole city", "citywide", "", "5000", "knapsack")
    page.goto(base + "/budgets/new")  # a second city-wide budget is refused by its field, input kept
    page.fill("#name", "Another city budget")
    page.check("#kind-citywide")
    page.fill("#amount", "100")
    page.click("form.staff-form button[type=submit]")
    expect(page.locator("#error-summary a[href='#kind']")).to_be_visible()
    expect(page.locator("#name")).to_have_value("Another city budget")
    page.goto(base)
    expect(page.locator("#budgets + .table-scroll tbody tr")).to_have_count(3)
    shot(page, site, "staff-round")

    _move(page, base, "submission")
    ids = run_services(site.settings, lambda: submit_proposals(org, round_id))
    page.goto(base + "/preview")
    expect(page.locator(".preview")).to_have_count(3)
    _move(page, base, "review")

    # 2. a reviewer: eligible, changes requested, ineligible with reason (a missing reason is refused)
    _staff(page, site, "reviewer")
    page.goto(base + "/reviews")
    expect(page.locator(f"a[href$='/proposals/{ids['Harbour benches']}/review']").first).to_be_visible()
    page.goto(site.url(f"/orgs/{org}/staff/proposals/{ids['Private car park']}/review"))
    page.check("#decision-ineligible")
    page.click("form.staff-form button[type=submit]")
    expect(page.locator("#error-summary a[href='#public_reason']")).to_be_visible()
    expect(page.locator("#decision-ineligible")).to_be_checked()
    _review(page, site, org, ids["Private car park"], "ineligible", "Not a public project.", fail=True)
    _review(page, site, org, ids["Harbour mural"], "changes_requested", "Please add a maintenance plan.")
    for title in ("Harbour benches", "Hills playground", "City bike racks"):
        _review(page, site, org, ids[title], "eligible")
    shot(page, site, "staff-review-queue")

    # 3. census: a file with a bad line is refused whole, each bad line named; then a good file
    _staff(page, site, "official")
    page.goto(site.url(f"/orgs/{org}/staff/census"))
    bad = tmp_path / "bad.csv"
    bad.write_text("identifier,district\nHB-1,harbour\n,hills\n")
    page.set_input_files("#file", str(bad))
    page.click("form.staff-form button[type=submit]")
    expect(page.locator("#rejected tbody tr")).to_have_count(1)
    expect(page.locator("#rejected tbody td").first).to_have_text("3")
    good = tmp_path / "good.csv"
    good.write_text("identifier,district\nHB-1,harbour\nHB-2,harbour\nHL-1,hills\nHL-1,hills\n")
    page.set_input_files("#file", str(good))
    page.click("form.staff-form button[type=submit]")
    expect(page.locator("#import-result")).to_be_visible()
    shot(page, site, "staff-census")
    run_services(site.settings, lambda: voters_bind(site.settings, org, VOTERS))

    # 4. open voting: the confirmation says what freezes; afterwards the hash is shown
    _move(page, base, "voting")
    expect(page.locator(".hash code").first).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    page.goto(base + "/edit")
    expect(page.locator("form.staff-form")).to_have_count(0)

    # 5. residents vote on the citizen pages
    voter = open_page()
    for email in VOTERS:
        voter.context.clear_cookies()
        sign_in(voter, site, email, PASSWORD)
        voter.goto(site.url(f"/orgs/{org}/rounds/{round_id}/vote"))
        for link in [a.get_attribute("href") for a in voter.locator(".budget-choices a[href*='/vote/']").all()]:
            voter.goto(site.url(link))
            voter.locator(".project-options input").first.check()
            voter.click("button[name=action][value=review]")
            voter.click("button[name=action][value=cast]")
            voter.wait_for_url(re.compile(r".*/receipts/[0-9a-f]{64}\?new=1$"))

    # 6. close, tally, read the staff result and the verification, publish with confirmation
    _move(page, base, "closed")
    page.goto(base + "/results")
    page.click(f"form[action$='/rounds/{round_id}/tally'] button")
    page.wait_for_url(re.compile(r".*/results$"))
    expect(page.locator(".result-budget")).to_have_count(3)
    expect(page.locator(".chart-svg")).to_have_count(6)
    shot(page, site, "staff-results")
    page.goto(base + "/check")
    expect(page.locator("#tally-verdict.verdict-ok")).to_be_visible()
    page.goto(base + "/publish")
    page.click("form.staff-form button[type=submit]")
    expect(page.locator("#error-summary")).to_be_visible()
    page.check("#confirm")
    page.click("form.staff-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/results$"))
    expect(page.locator(".badge-phase-published")).to_have_count(0)
    assert page.context.request.get(site.url(f"/orgs/{org}/rounds/{round_id}/results")).ok

    # 7. a grant, a tranche; the planner may not approve (said in words), a second official does; pay
    page.goto(base + "/grants")
    page.select_option("#proposal_id", str(ids["Harbour benches"]))
    page.click(f"form[action$='/rounds/{round_id}/grants'] button")
    page.wait_for_url(re.compile(r".*/staff/grants/\d+$"))
    grant_url = page.url
    page.fill("#amount", "1500")
    page.fill("#condition", "on signature")
    page.click("form[action$='/tranches'] button")
    page.wait_for_url(grant_url)
    expect(page.locator(".four-eyes")).to_be_visible()
    expect(page.locator("form[action$='/approve']")).to_have_count(0)
    tranche = page.locator(".tranche").first.get_attribute("id").removeprefix("tranche-")
    # the planner forging the approve request is refused by the service, in words, and nothing changes
    forged = page.context.request.post(f"{grant_url}/tranches/{tranche}/approve", form={
        "_csrf_token": page.locator("input[name=_csrf_token]").first.input_value()})
    assert forged.status == 403 and 'class="error-summary"' in forged.text()
    page.reload()
    expect(page.locator(".badge-tranche-planned")).to_have_count(1)
    _staff(page, site, "official2")
    page.goto(grant_url)
    page.click("form[action$='/approve'] button")
    page.wait_for_url(re.compile(re.escape(grant_url) + r"(#tranche-\d+)?$"))
    page.fill(f"#pay-reference-{tranche}", "BANK-2027-0001")
    page.check(f"#pay-confirm-{tranche}")
    page.click("form[action$='/pay'] button")
    page.wait_for_url(re.compile(re.escape(grant_url) + r"(#tranche-\d+)?$"))
    expect(page.locator(".badge-tranche-paid")).to_have_count(1)
    shot(page, site, "staff-grant")
    page.locator("details.reverse summary").click()  # claw back: reference and confirmation needed
    page.fill(f"#reverse-reference-{tranche}", "BANK-2027-0002")
    page.click("form[action$='/reverse'] button")
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator(".badge-tranche-paid")).to_have_count(1)
    page.locator("details.reverse summary").click()
    page.fill(f"#reverse-reason-{tranche}", "The mural was not painted.")
    page.fill(f"#reverse-reference-{tranche}", "BANK-2027-0002")
    page.check(f"#reverse-confirm-{tranche}")
    page.click("form[action$='/reverse'] button")
    page.wait_for_url(re.compile(re.escape(grant_url) + r"(#tranche-\d+)?$"))
    expect(page.locator(".badge-tranche-paid")).to_have_count(1)  # four eyes: not yet taken back
    expect(page.locator("form[action*='/reversals/']")).to_have_count(0)  # the requester cannot approve it
    _staff(page, site, "official")
    page.goto(grant_url)
    page.check("form[action*='/reversals/'] input[name=confirm]")
    page.click("form[action*='/reversals/'] button")
    expect(page.locator(".badge-tranche-reversed")).to_have_count(1)

    # 8. the auditor: read-only pages, the chain and the tally verified
    _staff(page, site, "auditor")
    page.goto(site.url(f"/orgs/{org}/staff/audit/verify"))
    expect(page.locator("#chain-verdict.verdict-ok")).to_be_visible()
    page.goto(site.url(f"/orgs/{org}/staff/audit?subject=round:{round_id}"))
    expect(page.locator(".event").first).to_be_visible()
    page.locator(".event a[href*='seq=']").first.click()  # the link to the previous event
    expect(page.locator(".event")).to_have_count(1)
    page.goto(base + "/check")
    expect(page.locator("#tally-verdict.verdict-ok")).to_be_visible()
    shot(page, site, "auditor-check")
    for path in ("", "/results", "/grants", "/check"):
        page.goto(base + path)
        expect(page.locator("main form[method=post]")).to_have_count(0)
