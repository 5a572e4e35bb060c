"""Pabulib: a published budget's ballots as a .pb file pabutools reads; a .pb file imported into the
sandbox and the rules compared side by side."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pb.accounts.domain import AUDITOR
from tests.helpers import create_organisation, member_with_roles
from tests.record.steps import published_round_record
from tests.steps_voting import expected_winners, round_closed_with_ballots, round_url

pytestmark = [pytest.mark.anyio, pytest.mark.db]

GOLDEN = Path(__file__).parent / "golden"
# Toulouse 2022, district 17 (pabulib.org, France_Toulouse_2022_17_-_Mirail-Universite_Reynerie_Bellefontaine.pb):
# 10 projects, 93 voters, budget 400 000; greedy, MES and Phragmén choose different sets.
TOULOUSE = (GOLDEN / "toulouse_2022_17.pb").read_bytes()


async def test_a_published_budget_exports_as_a_pb_file_that_pabutools_reads_with_the_same_outcome(client, tmp_path):
    from pabutools.election import Cost_Sat, parse_pabulib
    from pabutools.rules import greedy_utilitarian_welfare

    world = await published_round_record(client, lottery=False)
    north = world["budgets"]["north"]
    response = await client.get(round_url(world, f"/budgets/{north}/pabulib"))
    assert response.status_code == 200, response.text
    path = tmp_path / "north.pb"
    path.write_text(response.text)
    instance, profile = parse_pabulib(str(path))
    assert instance.budget_limit == 100_000 and len(profile) == 3
    assert {p.name: p.cost for p in instance} == {str(pid): world["costs"][pid] for pid in world["proposals"]["north"]}
    chosen = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    assert sorted(int(p.name) for p in chosen) == sorted(expected_winners(world)["north"])
    from pb.record.pabulib import record_to_pb

    assert record_to_pb(world["record"], north) == response.text  # offline, from the record: same file
    record_path = tmp_path / "record.zip"
    record_path.write_bytes(world["record"])
    from pb.cli import main

    printed = CliRunner().invoke(main, ["record", "pabulib", str(record_path), str(north)])
    assert printed.exit_code == 0 and printed.output == response.text
    unknown = CliRunner().invoke(main, ["record", "pabulib", str(record_path), "999"])
    assert unknown.exit_code != 0 and "budget 999 is not in this record" in unknown.output


async def test_ballots_are_not_exported_before_publication(client):
    world = await round_closed_with_ballots(client)
    response = await client.get(round_url(world, f"/budgets/{world['budgets']['north']}/pabulib"))
    assert response.status_code == 409 and response.json()["code"] == "not_published"


async def test_an_imported_pb_file_shows_what_each_rule_would_choose(client):
    org_id, official = await create_organisation(client, "sandbox")
    url = f"/api/orgs/{org_id}/sandbox/elections"
    imported = await client.post(url, params={"title": "Toulouse 17"}, content=TOULOUSE,
                                 headers={**official, "Content-Type": "text/plain"})
    assert imported.status_code == 201, imported.text
    assert (imported.json()["projects"], imported.json()["voters"]) == (10, 93)
    election_id = imported.json()["id"]
    compared = await client.get(f"{url}/{election_id}/comparison", params={"rules": "greedy,mes:add1_greedy,phragmen"},
                                headers=official)
    assert compared.status_code == 200, compared.text
    body = compared.json()
    winners = {rule["rule"]: rule["winners"] for rule in body["rules"]}
    assert winners == {"greedy": ["182", "183"], "mes:add1_greedy": ["182", "180", "184", "178", "186"],
                       "phragmen": ["184", "180", "178", "182"]}
    rows = {p["id"]: p for p in body["projects"]}
    assert rows["183"]["selected_by"] == ["greedy"] and rows["183"]["reasons"]["phragmen"] == "not_affordable"
    assert body["budget"] == 400_000
    default = await client.get(f"{url}/{election_id}/comparison", headers=official)
    assert [rule["rule"] for rule in default.json()["rules"]] == ["greedy", "mes:add1_greedy", "phragmen",
                                                                 "max_welfare"]
    listed = await client.get(url, headers=official)
    assert [e["title"] for e in listed.json()] == ["Toulouse 17"]


async def test_the_sandbox_refuses_bad_files_bad_rules_strangers_and_citizens(client):
    org_id, official = await create_organisation(client, "careful")
    url = f"/api/orgs/{org_id}/sandbox/elections"
    headers = {**official, "Content-Type": "text/plain"}
    for body, code in ((b"", "pb_empty"), (b"META\nkey;value\n", "pb_unreadable"), (b"\xff\xfe", "pb_unreadable")):
        refused = await client.post(url, content=body, headers=headers)
        assert refused.status_code == 422 and refused.json()["code"] == code, refused.text
    election_id = (await client.post(url, content=TOULOUSE, headers=headers)).json()["id"]
    bad_rule = await client.get(f"{url}/{election_id}/comparison", params={"rules": "greedy,borda"}, headers=official)
    assert bad_rule.status_code == 422 and "borda" in bad_rule.json()["detail"]
    _, citizen = await member_with_roles(client, org_id, official)
    assert (await client.post(url, content=TOULOUSE, headers={**citizen, "Content-Type": "text/plain"})).status_code == 403
    _, auditor = await member_with_roles(client, org_id, official, AUDITOR)
    assert (await client.get(f"{url}/{election_id}/comparison", headers=auditor)).status_code == 200
    other, other_official = await create_organisation(client, "other")
    stranger = await client.get(f"/api/orgs/{other}/sandbox/elections/{election_id}/comparison",
                                headers=other_official)
    assert stranger.status_code == 404
