"""Citizen journeys in a real browser, on both engines (SQLite in English, PostgreSQL in Polish).

Selectors use ids, names and values, never visible words, so one test serves every language.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import run_services, shot, sign_in
from tests.e2e.world import PASSWORD, proposal_status, request_changes

pytestmark = pytest.mark.browser


def test_a_visitor_browses_searches_and_reads_proposals(site, open_page):
    page = open_page()
    page.goto(site.url("/"))
    expect(page.locator("html")).to_have_attribute("lang", site.language)
    shot(page, site, "home")
    page.click(f"a[href='/orgs/{site.world.org_id}/rounds/{site.world.open_round}']")
    shot(page, site, "round")
    page.click(f"a[href$='/rounds/{site.world.open_round}/proposals']")
    shot(page, site, "proposals")
    cards = page.locator(".proposal-card")
    everything = cards.count()
    assert everything >= 5
    page.fill("#q", "lighting")
    page.click(".filter-actions button[type=submit]")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Riverside path lighting")
    page.fill("#q", "")
    page.click(".more-filters summary")
    page.select_option("#status", "ineligible")
    page.click(".filter-actions button[type=submit]")
    expect(cards).to_have_count(1)
    cards.first.locator("a").click()
    expect(page.locator("h1")).to_have_text("Paint the water tower")
    expect(page.locator(".review-list")).to_contain_text("regional water company")
    expect(page.locator("#costs-title + .table-scroll tbody tr")).to_have_count(2)
    page.goto(site.url(f"/orgs/{site.world.org_id}/rounds/{site.world.open_round}/proposals?sort=cost_desc"))
    costs = page.locator(".proposal-card .facts div:nth-child(3) dd").all_inner_texts()
    amounts = [int(re.sub(r"[^\d]", "", text)) for text in costs]
    assert amounts == sorted(amounts, reverse=True)
    assert "Dog park" not in page.content()  # a draft is never public


def _sign_up_and_bind(page, site, name: str, resident: str) -> None:
    page.goto(site.url("/signup"))
    page.fill("#display_name", name)
    page.fill("#email", f"{name.lower().replace(' ', '.')}@e2e.example")
    page.fill("#password", "short")
    page.click("form.narrow button[type=submit]")
    expect(page.locator("#password-error")).to_be_visible()
    expect(page.locator("#display_name")).to_have_value(name)  # nothing typed is lost
    page.fill("#password", PASSWORD)
    page.click("form.narrow button[type=submit]")
    page.wait_for_url("**/me")
    page.goto(site.url(f"/orgs/{site.world.org_id}/census"))
    page.fill("#identifier", "NOT-A-RESIDENT")
    page.click("form.narrow button[type=submit]")
    expect(page.locator("#identifier-error")).to_be_visible()
    page.fill("#identifier", resident)
    page.click("form.narrow button[type=submit]")
    page.wait_for_url("**/me")
    expect(page.locator("main")).to_contain_text("north")


def _fill_proposal(page, title: str, lines: list[tuple[str, str]], add_line_button) -> None:
    page.select_option("#budget_id", index=1)
    page.fill("#title", title)
    page.fill("#summary", "Six benches along the canal path.")
    while page.locator("input[name=line_label]").count() < len(lines):
        add_line_button()
    for i, (label, amount) in enumerate(lines):
        page.fill(f"#line-label-{i}", label)
        page.fill(f"#line-amount-{i}", amount)


def test_a_citizen_signs_up_binds_proposes_gets_changes_requested_and_resubmits(site, open_page):
    page = open_page()
    world = site.world
    _sign_up_and_bind(page, site, f"Ada {site.engine}", world.new_residents[0])
    page.goto(site.url(f"/orgs/{world.org_id}/rounds/{world.ideas_round}/propose"))
    page.click("button[value=add_line]")  # with JavaScript: htmx swaps the cost lines in place
    expect(page.locator("input[name=line_label]")).to_have_count(3)
    expect(page.locator("#line-label-2")).to_be_focused()
    page.click("button[value='remove_line:2']")
    expect(page.locator("input[name=line_label]")).to_have_count(2)
    title = f"Canal benches {site.engine}"
    _fill_proposal(page, title, [("Benches", "1200"), ("Installation", "abc")],
                   lambda: page.click("button[value=add_line]"))
    page.click("button[name=action][value=submit]")
    expect(page.locator("#line-amount-1-error")).to_be_visible()  # the bad amount, named by its field
    expect(page.locator("#error-summary a[href='#line-amount-1']")).to_be_visible()
    expect(page.locator("#title")).to_have_value(title)  # kept
    shot(page, site, "proposal-form-errors")
    page.fill("#line-amount-1", "300,50")
    page.click("button[name=action][value=submit]")
    page.wait_for_url(re.compile(r".*/proposals/\d+$"))
    proposal_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator(".badge-submitted")).to_be_visible()
    expect(page.locator("#costs-title + .table-scroll tbody tr")).to_have_count(2)

    run_services(site.settings, lambda: request_changes(site.settings, world.org_id, world.ideas_round, title,
                                                        "Please add the bench model."))
    page.reload()
    expect(page.locator(".badge-changes_requested")).to_be_visible()
    expect(page.locator(".review-list")).to_contain_text("Please add the bench model.")
    page.click(f"a[href='/orgs/{world.org_id}/proposals/{proposal_id}/edit']")
    expect(page.locator("#line-amount-1")).to_have_value("300.50")
    page.fill("#description", "Model: Canal 2000, recycled wood.")
    page.click("button[name=action][value=submit]")
    page.wait_for_url(f"**/proposals/{proposal_id}")
    expect(page.locator(".badge-submitted")).to_be_visible()
    assert run_services(site.settings, lambda: proposal_status(world.org_id, proposal_id)) == "submitted"
    page.goto(site.url("/me"))
    expect(page.locator("main")).to_contain_text(title)


def _choose(page, ballot_format: str) -> None:
    """Fill a valid ballot of each format (projects: benches 20k, lamps 25k, trees 15k; budget 50k)."""
    options = page.locator(".project-options .option")
    if ballot_format in ("approval", "knapsack"):
        options.nth(0).locator("input").check()
        options.nth(2).locator("input").check()
    elif ballot_format == "choose-1":
        options.nth(1).locator("input").check()
    elif ballot_format == "cumulative":
        options.nth(0).locator("input").fill("3")
        options.nth(1).locator("input").fill("2")
    elif ballot_format == "scoring":
        options.nth(0).locator("select").select_option("5")
        options.nth(2).locator("select").select_option("2")
    elif ballot_format == "ordinal":
        page.locator("button[value^='add:']").nth(2).click()
        page.locator("button[value^='add:']").nth(0).click()


def _refused_first(page, ballot_format: str) -> bool:
    """Break a rule on purpose; the refusal names it and keeps the choices."""
    options = page.locator(".project-options .option")
    if ballot_format == "knapsack":
        for i in range(3):
            options.nth(i).locator("input").check()
        page.click("button[name=action][value=review]")
        expect(page.locator("#error-summary")).to_be_visible()
        assert all(options.nth(i).locator("input").is_checked() for i in range(3))
        options.nth(1).locator("input").uncheck()
        return True
    if ballot_format == "cumulative":
        options.nth(0).locator("input").fill("4")
        options.nth(1).locator("input").fill("4")
        page.click("button[name=action][value=review]")
        expect(page.locator("#error-summary")).to_be_visible()
        expect(options.nth(1).locator("input")).to_have_value("4")
        return False
    return False


@pytest.mark.parametrize("ballot_format", ["approval", "choose-1", "knapsack", "cumulative", "scoring", "ordinal"])
def test_a_resident_votes_in_each_ballot_format_and_checks_the_receipt(site, open_page, ballot_format):
    page = open_page()
    world = site.world
    sign_in(page, site, world.voters[ballot_format][0], PASSWORD)
    page.goto(site.url(f"/orgs/{world.org_id}/rounds/{world.formats_round}/vote"))
    page.click(f"a[href$='/vote/{world.budgets[ballot_format]}']")
    if ballot_format == "knapsack":
        options = page.locator(".project-options .option")
        options.nth(0).locator("input").check()
        options.nth(1).locator("input").check()
        expect(page.locator("#ballot-summary .meter-fill")).to_have_class(re.compile("w-90"))  # live, via htmx
    if not _refused_first(page, ballot_format):
        _choose(page, ballot_format)
    shot(page, site, f"ballot-{ballot_format}")
    page.click("button[name=action][value=review]")
    expect(page.locator(".review-choices li")).to_have_count(1 if ballot_format == "choose-1" else 2)
    page.click("button[name=action][value=cast]")
    page.wait_for_url(re.compile(r".*/receipts/[0-9a-f]{64}\?new=1$"))
    shot(page, site, "receipt")
    receipt = page.input_value("#receipt-code")
    assert re.fullmatch(r"[0-9a-f]{64}", receipt)
    page.goto(site.url("/me"))
    expect(page.locator(f".receipt-list a[href$='{receipt}']")).to_have_count(1)
    page.goto(site.url(f"/orgs/{world.org_id}/rounds/{world.formats_round}/check"))
    page.fill("#receipt", receipt.upper())
    page.click("form.narrow button[type=submit]")
    page.wait_for_url(f"**/receipts/{receipt}")
    expect(page.locator(".badge-done")).to_be_visible()
    page.goto(site.url(f"/orgs/{world.org_id}/rounds/{world.formats_round}/vote"))
    expect(page.locator(".budget-choices .badge-done")).to_have_count(1)  # one person, one ballot


def test_a_ranked_ballot_can_be_cast_with_the_keyboard_only(site, open_page):
    page = open_page()
    world = site.world
    sign_in(page, site, world.voters["ordinal"][1], PASSWORD)
    page.goto(site.url(f"/orgs/{world.org_id}/rounds/{world.formats_round}/vote/{world.budgets['ordinal']}"))
    titles = page.locator(".project-options .option span:first-child").all_inner_texts()

    def press_on(selector: str) -> None:
        for _ in range(60):  # Tab until the control has focus, then Enter: no mouse anywhere
            if page.evaluate("s => document.activeElement === document.querySelector(s)", selector):
                with page.expect_navigation():
                    page.keyboard.press("Enter")
                return
            page.keyboard.press("Tab")
        raise AssertionError(f"{selector} is not reachable with Tab")

    add_buttons = page.locator("button[value^='add:']")
    first, second = (add_buttons.nth(i).get_attribute("value").split(":")[1] for i in (0, 1))
    press_on(f"button[value='add:{first}']")
    press_on(f"button[value='add:{second}']")
    press_on(f"button[value='up:{second}']")
    expect(page.locator(f"#down-{second}")).to_have_count(1)
    ranked = page.locator(".ranking input[name=project]")
    assert [ranked.nth(i).get_attribute("value") for i in range(2)] == [second, first]
    press_on("button[name=action][value=review]")
    press_on("button[name=action][value=cast]")
    page.wait_for_url(re.compile(r".*/receipts/[0-9a-f]{64}\?new=1$"))
    assert titles  # the ballot listed the projects


def test_voting_and_proposing_work_with_javascript_off(site, open_page):
    page = open_page(javascript=False)
    world = site.world
    sign_in(page, site, world.voters["approval"][1], PASSWORD)
    page.goto(site.url(f"/orgs/{world.org_id}/rounds/{world.formats_round}/vote/{world.budgets['approval']}"))
    options = page.locator(".project-options .option input")
    for i in range(3):
        options.nth(i).check()
    page.click("button[name=action][value=update]")  # totals without JavaScript: a plain submit
    expect(page.locator("#ballot-summary")).to_contain_text("3")
    page.click("button[name=action][value=review]")
    expect(page.locator("#error-summary")).to_be_visible()  # at most 2
    assert all(options.nth(i).is_checked() for i in range(3))
    options.nth(0).uncheck()
    page.click("button[name=action][value=review]")
    page.click("button[name=action][value=cast]")
    page.wait_for_url(re.compile(r".*/receipts/[0-9a-f]{64}\?new=1$"))

    page.goto(site.url(f"/orgs/{world.org_id}/rounds/{world.open_ideas_round}/propose"))
    _fill_proposal(page, f"No-JS fountain {site.engine}", [("Fountain", "900"), ("Pipes", "100"), ("Sign", "50")],
                   lambda: page.click("button[value=add_line]"))
    page.click("button[name=action][value='remove_line:2']")
    expect(page.locator("input[name=line_label]")).to_have_count(2)
    page.click("button[name=action][value=save]")
    page.wait_for_url(re.compile(r".*/proposals/\d+$"))
    expect(page.locator(".badge-draft")).to_be_visible()


def test_results_show_winners_reasons_charts_and_downloads(site, open_page):
    page = open_page()
    world = site.world
    page.goto(site.url(f"/orgs/{world.org_id}/rounds/{world.past_round}/results"))
    shot(page, site, "results")
    budgets = page.locator(".result-budget")
    assert budgets.count() == 4
    first = budgets.first
    expect(first.locator("svg[role=img] title")).to_have_count(2)
    assert first.locator("tbody tr.row-win").count() >= 1
    assert first.locator("svg .chart-bar-win").count() == first.locator("tbody tr.row-win").count() + 0 \
        or first.locator("svg .chart-bar-win").count() >= 1
    expect(page.locator("#config-title ~ .hash code")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    with page.expect_download() as download:
        page.click("a[href$='/results.csv']")
    assert download.value.suggested_filename.endswith(".csv")
    response = page.request.get(site.url(f"/orgs/{world.org_id}/rounds/{world.past_round}/results.json"))
    body = response.json()
    assert {b["budget_id"] for b in body["budgets"]} and all(len(b["result_hash"]) == 64 for b in body["budgets"])


def test_funded_projects_show_paid_tranches_and_progress(site, open_page):
    page = open_page()
    world = site.world
    page.goto(site.url(f"/orgs/{world.org_id}/rounds/{world.past_round}/funded"))
    cards = page.locator("section.card")
    assert cards.count() >= 1
    expect(page.locator(f"a[href='/orgs/{world.org_id}/proposals/{world.funded_proposal}']")).to_have_count(1)
    assert page.locator("table tbody tr").count() >= 1
