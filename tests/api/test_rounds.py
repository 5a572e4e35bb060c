"""Rounds over HTTP: creation, phases, the freeze, the public views, and every refusal."""

from __future__ import annotations

import asyncio
import random

import pytest

from pb.core.canonical import canonical_json, sha256_hex
from pb.rounds import domain
from tests.helpers import create_organisation, member_with_roles
from tests.steps_rounds import (
    BUDGETS, advance, audit_actions, create_proposal, create_round, move_phase, review, round_body, round_in_review,
    round_in_submission, round_in_voting, submit,
)

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def _census(org_id: int, districts: dict[str, int]) -> None:
    """Residents per district, straight into the census (the voting context owns its import API)."""
    from pb.db import write_transaction
    from pb.voting import repo as voting_repo

    entries = [(f"{district}-{i}".ljust(64, "0"), district) for district, n in districts.items() for i in range(n)]
    async with write_transaction():
        await voting_repo.insert_census_entries(org_id, entries)


async def _audit_events(client, org_id, official, action):
    response = await client.get(f"/api/orgs/{org_id}/audit/events", params={"limit": 1000}, headers=official)
    return [e for e in response.json() if e["action"] == action]


async def test_official_creates_a_draft_round_that_only_staff_can_see(client):
    org_id, official = await create_organisation(client)
    created = await create_round(client, org_id, official)
    round_id = created["round_id"]
    staff = await client.get(f"/api/orgs/{org_id}/staff/rounds/{round_id}", headers=official)
    assert staff.json()["phase"] == "draft"
    assert [b["amount"] for b in staff.json()["budgets"]] == [b["amount"] for b in BUDGETS]
    assert staff.json()["criteria"][0]["key"] == "feasible"
    assert (await client.get(f"/api/orgs/{org_id}/rounds/{round_id}")).status_code == 404
    assert (await client.get(f"/api/orgs/{org_id}/rounds")).json() == []
    assert [r["id"] for r in (await client.get(f"/api/orgs/{org_id}/staff/rounds", headers=official)).json()] == [
        round_id]
    assert "round.created" in await audit_actions(client, org_id, official)


async def test_non_officials_cannot_create_or_change_rounds_but_auditors_can_read(client):
    org_id, official = await create_organisation(client)
    round_id = (await create_round(client, org_id, official))["round_id"]
    _, citizen = await member_with_roles(client, org_id, official)
    _, auditor = await member_with_roles(client, org_id, official, "auditor")
    _, reviewer = await member_with_roles(client, org_id, official, "reviewer")
    for headers in (citizen, auditor, reviewer):
        assert (await client.post(f"/api/orgs/{org_id}/rounds", json=round_body(), headers=headers)).status_code == 403
        assert (await move_phase(client, org_id, round_id, headers, "submission")).status_code == 403
        response = await client.patch(f"/api/orgs/{org_id}/rounds/{round_id}", json={"title": "x"}, headers=headers)
        assert response.status_code == 403
    assert (await client.get(f"/api/orgs/{org_id}/staff/rounds/{round_id}", headers=auditor)).status_code == 200
    assert (await client.get(f"/api/orgs/{org_id}/staff/rounds", headers=citizen)).status_code == 403


async def test_another_organisations_round_is_not_found(client):
    org_a, official_a = await create_organisation(client, "a")
    org_b, official_b = await create_organisation(client, "b")
    created = await create_round(client, org_a, official_a)
    round_id, budget_id = created["round_id"], created["budgets"]["north"]
    await advance(client, org_a, round_id, official_a, "submission")
    assert (await client.get(f"/api/orgs/{org_b}/staff/rounds/{round_id}", headers=official_b)).status_code == 404
    assert (await client.get(f"/api/orgs/{org_b}/rounds/{round_id}")).status_code == 404
    assert (await move_phase(client, org_b, round_id, official_b, "review")).status_code == 404
    response = await client.patch(f"/api/orgs/{org_b}/rounds/{round_id}", json={"title": "x"}, headers=official_b)
    assert response.status_code == 404
    response = await client.patch(f"/api/orgs/{org_b}/rounds/{round_id}/budgets/{budget_id}", json=BUDGETS[0],
                                  headers=official_b)
    assert response.status_code == 404
    # and the official of B cannot act on A's organisation at all
    assert (await move_phase(client, org_a, round_id, official_b, "review")).status_code == 403
    staff = await client.get(f"/api/orgs/{org_a}/staff/rounds/{round_id}", headers=official_a)
    assert staff.json()["phase"] == "submission"


@pytest.mark.parametrize("change, problem", [
    ({"tally_rule": "borda"}, "Unknown tally rule 'borda'"),
    ({"tally_options": {"completion": "magic"}}, "has no option 'completion'"),
    ({"budgets": [BUDGETS[0], BUDGETS[0]]}, "One budget per district"),
    ({"budgets": [{**BUDGETS[2], "max_projects": 3}]}, "max_projects applies to approval, cumulative, scoring or"),
    ({"budgets": [{**BUDGETS[0], "ballot_format": "cumulative"}]}, "needs points_per_voter"),
    ({"tally_options": {"satisfaction": "points"}}, "Points satisfaction needs cumulative or scoring ballots"),
    ({"budgets": [{**BUDGETS[0], "min_projects": 3, "max_projects": 2}]}, "min_projects cannot exceed"),
    ({"budgets": [{**BUDGETS[0], "district": None}]}, "needs a district code"),
    ({"criteria": [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]}, "Criterion keys must be unique"),
    ({"submission_end": "2027-03-01T00:00:00Z", "voting_start": "2027-02-01T00:00:00Z"}, "must not be after"),
])
async def test_rule_breaking_round_settings_are_422_naming_the_rule(client, change, problem):
    org_id, official = await create_organisation(client)
    response = await client.post(f"/api/orgs/{org_id}/rounds", json=round_body(**change), headers=official)
    assert response.status_code == 422, response.text
    assert problem in response.json()["detail"]


async def test_malformed_round_input_is_refused_before_the_service(client):
    org_id, official = await create_organisation(client)
    for body in (round_body(is_frozen=True), round_body(max_proposal_amount=0),
                 round_body(budgets=[{**BUDGETS[0], "ballot_format": "ranking"}])):
        response = await client.post(f"/api/orgs/{org_id}/rounds", json=body, headers=official)
        assert response.status_code == 422, response.text


async def test_any_rule_of_the_tally_engine_can_be_chosen(client):
    from pb.tally import RULES

    org_id, official = await create_organisation(client)
    for rule in RULES:
        response = await client.post(f"/api/orgs/{org_id}/rounds", json=round_body(tally_rule=rule), headers=official)
        assert response.status_code == 201, response.text


async def test_phases_move_only_along_the_machine_and_each_move_is_audited(client):
    org_id, official = await create_organisation(client)
    bare = await client.post(f"/api/orgs/{org_id}/rounds", json=round_body(budgets=[]), headers=official)
    response = await move_phase(client, org_id, bare.json()["id"], official, "submission")
    assert response.status_code == 409 and "at least one budget" in response.json()["detail"]

    round_id = (await create_round(client, org_id, official, budgets=[BUDGETS[1]]))["round_id"]
    response = await move_phase(client, org_id, round_id, official, "voting")
    assert response.status_code == 409 and "cannot move to 'voting'" in response.json()["detail"]
    assert (await move_phase(client, org_id, round_id, official, "limbo")).status_code == 409
    await advance(client, org_id, round_id, official, "submission", "review", "voting", "closed")
    for target, hint in (("tallied", "run the tally"), ("published", "cannot move")):
        response = await move_phase(client, org_id, round_id, official, target)
        assert response.status_code == 409 and hint in response.json()["detail"]
    events = await _audit_events(client, org_id, official, "round.phase_changed")
    assert [e["payload"]["to"] for e in events] == ["submission", "review", "voting", "closed"]
    assert all(e["actor"].startswith("user:") for e in events)


async def test_cancelling_is_possible_before_voting_only(client):
    org_id, official = await create_organisation(client)
    first = (await create_round(client, org_id, official, budgets=[BUDGETS[1]]))["round_id"]
    await advance(client, org_id, first, official, "submission", "review", "cancelled")
    assert (await move_phase(client, org_id, first, official, "submission")).status_code == 409
    second = (await create_round(client, org_id, official, budgets=[BUDGETS[1]]))["round_id"]
    await advance(client, org_id, second, official, "submission", "review", "voting")
    assert (await move_phase(client, org_id, second, official, "cancelled")).status_code == 409


async def test_random_illegal_phase_requests_are_409_and_change_nothing(client):
    """Invariant at the DB: whatever phase is requested, the API does exactly what the pure machine
    allows; a refusal leaves the phase and the audit log as they were."""
    org_id, official = await create_organisation(client)
    round_id = (await create_round(client, org_id, official, budgets=[BUDGETS[1]]))["round_id"]
    rng = random.Random(20261122)
    phase = "draft"
    for _ in range(24):
        target = rng.choice(domain.PHASES + ("nonsense",))
        allowed = domain.can_move(phase, target) and (phase, target) not in domain.DONE_BY_RESULTS
        before = len(await audit_actions(client, org_id, official))
        response = await move_phase(client, org_id, round_id, official, target)
        assert response.status_code == (200 if allowed else 409), (phase, target, response.text)
        phase = target if allowed else phase
        current = await client.get(f"/api/orgs/{org_id}/staff/rounds/{round_id}", headers=official)
        assert current.json()["phase"] == phase
        after = len(await audit_actions(client, org_id, official))
        assert after - before == (0 if not allowed else 2 if target == "voting" else 1)


async def test_opening_review_takes_submitted_proposals_into_review_and_leaves_drafts(client):
    world = await round_in_submission(client, citizens=1)
    org_id, author = world["org_id"], world["citizens"][0]["headers"]
    submitted = await create_proposal(client, org_id, world["round_id"], author, world["budgets"]["north"], 10_000)
    assert (await submit(client, org_id, submitted, author)).status_code == 200
    draft = await create_proposal(client, org_id, world["round_id"], author, world["budgets"]["north"], 10_000)
    await advance(client, org_id, world["round_id"], world["official"], "review")
    statuses = {p: (await client.get(f"/api/orgs/{org_id}/proposals/{p}", headers=author)).json()["status"]
                for p in (submitted, draft)}
    assert statuses == {submitted: "in_review", draft: "draft"}
    event = (await _audit_events(client, org_id, world["official"], "round.phase_changed"))[-1]
    assert event["payload"]["in_review"] == [submitted]


async def test_opening_voting_freezes_the_agreed_config_and_logs_its_hash(client):
    async def census(world):
        await _census(world["org_id"], {"north": 3, "south": 2, "east": 1})

    world = await round_in_voting(client, before_voting=census)
    org_id, round_id = world["org_id"], world["round_id"]
    response = await client.get(f"/api/orgs/{org_id}/rounds/{round_id}/frozen-config")
    assert response.status_code == 200
    config = response.json()
    assert sha256_hex(canonical_json(config)) == world["frozen_config_hash"]
    assert set(config) == {"round_id", "organisation_id", "title", "currency", "tally", "budgets", "allow_revision"}
    assert config["allow_revision"] is False
    assert config["tally"] == {"rule": "greedy", "options": {}}
    budgets = {b["district"] or "citywide": b for b in config["budgets"]}
    assert {k: b["eligible_count"] for k, b in budgets.items()} == {"north": 3, "south": 2, "citywide": 6}
    assert budgets["north"]["min_projects"] == 1 and budgets["citywide"]["ballot_format"] == "knapsack"
    assert {p["proposal_id"]: p["cost"] for b in config["budgets"] for p in b["projects"]} == world["costs"]
    assert all(b["projects"] == sorted(b["projects"], key=lambda p: p["proposal_id"]) for b in config["budgets"])
    assert world["ineligible"][0] not in {p["proposal_id"] for b in config["budgets"] for p in b["projects"]}
    frozen = await _audit_events(client, org_id, world["official"], "round.frozen")
    assert frozen[0]["payload"]["hash"] == world["frozen_config_hash"]
    staff = await client.get(f"/api/orgs/{org_id}/staff/rounds/{round_id}", headers=world["official"])
    assert {b["eligible_count"] for b in staff.json()["budgets"]} == {3, 2, 6}
    proposal = await client.get(f"/api/orgs/{org_id}/proposals/{world['proposals']['north'][2]}",
                                headers=world["official"])
    assert proposal.json()["status"] == "on_ballot" and proposal.json()["final_cost"] == 35_000


async def test_every_change_after_the_freeze_is_409_and_the_config_stays(client):
    world = await round_in_voting(client)
    org_id, round_id, official = world["org_id"], world["round_id"], world["official"]
    base = f"/api/orgs/{org_id}/rounds/{round_id}"
    before = (await client.get(base + "/frozen-config")).json()
    refusals = [
        await client.patch(base, json={"title": "Changed"}, headers=official),
        await client.patch(base, json={"tally_rule": "mes"}, headers=official),
        await client.patch(base + f"/budgets/{world['budgets']['north']}", json={**BUDGETS[0], "amount": 1},
                           headers=official),
        await client.post(base + "/budgets", json={**BUDGETS[0], "district": "east"}, headers=official),
        await move_phase(client, org_id, round_id, official, "voting"),
        await move_phase(client, org_id, round_id, official, "cancelled"),
    ]
    assert [r.status_code for r in refusals] == [409] * 6
    assert refusals[0].json()["code"] == "round_frozen"
    author = world["citizens"][0]["headers"]
    on_ballot = world["proposals"]["north"][0]
    body = {"budget_id": world["budgets"]["north"], "title": "x", "summary": "y", "requested_amount": 1,
            "cost_lines": [{"label": "z", "amount": 1}]}
    assert (await client.put(f"/api/orgs/{org_id}/proposals/{on_ballot}", json=body, headers=author)).status_code == 409
    assert (await client.post(f"/api/orgs/{org_id}/proposals/{on_ballot}/withdraw", headers=author)).status_code == 409
    assert (await client.get(base + "/frozen-config")).json() == before
    detail = (await client.get(base)).json()
    assert detail["title"] == "Participatory budget 2027" and detail["frozen_config_hash"] == world["frozen_config_hash"]


async def test_settings_change_before_voting_but_criteria_and_maximum_only_before_review(client):
    world = await round_in_submission(client, citizens=0)
    org_id, round_id, official = world["org_id"], world["round_id"], world["official"]
    base = f"/api/orgs/{org_id}/rounds/{round_id}"
    response = await client.patch(base, json={"title": "Renamed", "max_proposal_amount": 90_000,
                                              "tally_rule": "mes", "tally_options": {"completion": "add1"}},
                                  headers=official)
    assert response.status_code == 200, response.text
    assert (response.json()["title"], response.json()["tally_rule"]) == ("Renamed", "mes")
    response = await client.patch(base + f"/budgets/{world['budgets']['south']}",
                                  json={**BUDGETS[1], "amount": 85_000}, headers=official)
    assert response.status_code == 200
    assert {b["district"]: b["amount"] for b in response.json()["budgets"]}["south"] == 85_000
    assert (await client.post(base + "/budgets", json={**BUDGETS[0], "district": "east"},
                              headers=official)).status_code == 201
    await advance(client, org_id, round_id, official, "review")
    response = await client.patch(base, json={"criteria": []}, headers=official)
    assert response.status_code == 409 and "criteria" in response.json()["detail"]
    assert (await client.patch(base, json={"title": "In review"}, headers=official)).status_code == 200
    assert (await client.post(base + "/budgets", json={**BUDGETS[0], "district": "west"},
                              headers=official)).status_code == 409
    actions = await audit_actions(client, org_id, official)
    assert {"round.updated", "round.budget_updated", "round.budget_added"} <= set(actions)


async def test_the_public_sees_non_draft_rounds_and_the_ballot_once_voting_opened(client):
    world = await round_in_review(client)
    org_id, round_id = world["org_id"], world["round_id"]
    await create_round(client, org_id, world["official"], title="Next year (draft)")
    listed = (await client.get(f"/api/orgs/{org_id}/rounds")).json()
    assert listed == [{"id": round_id, "title": "Participatory budget 2027", "phase": "review"}]
    detail = (await client.get(f"/api/orgs/{org_id}/rounds/{round_id}")).json()
    assert all(b["ballot"] is None for b in detail["budgets"])
    assert (await client.get(f"/api/orgs/{org_id}/rounds/{round_id}/frozen-config")).status_code == 404
    home = await client.get("/")
    assert "Participatory budget 2027" in home.text and "Next year (draft)" not in home.text


async def test_a_ballot_that_voters_could_not_fill_in_keeps_the_round_in_review(client):
    world = await round_in_review(client)
    response = await move_phase(client, world["org_id"], world["round_id"], world["official"], "voting")
    assert response.status_code == 409 and "at least 1 projects but only 0" in response.json()["detail"]
    detail = await client.get(f"/api/orgs/{world['org_id']}/staff/rounds/{world['round_id']}",
                              headers=world["official"])
    assert detail.json()["phase"] == "review" and detail.json()["frozen_config_hash"] is None


async def test_a_budget_change_racing_the_freeze_is_either_in_the_config_or_refused(client):
    """Invariant: the frozen config always equals the budgets as stored; a change never slips in after."""
    world = await round_in_review(client)
    for key in ("north", "south", "citywide"):
        for proposal_id in world["proposals"][key]:
            assert (await review(client, world["org_id"], proposal_id, world["reviewer"])).status_code == 201
    base = f"/api/orgs/{world['org_id']}/rounds/{world['round_id']}"
    change, freeze = await asyncio.gather(
        client.patch(base + f"/budgets/{world['budgets']['south']}", json={**BUDGETS[1], "amount": 99_000},
                     headers=world["official"]),
        move_phase(client, world["org_id"], world["round_id"], world["official"], "voting"),
    )
    assert freeze.status_code == 200 and change.status_code in (200, 409)
    config = (await client.get(base + "/frozen-config")).json()
    stored = {b["id"]: b["amount"] for b in (await client.get(base)).json()["budgets"]}
    assert {b["id"]: b["amount"] for b in config["budgets"]} == stored
    assert stored[world["budgets"]["south"]] == (99_000 if change.status_code == 200 else 80_000)
