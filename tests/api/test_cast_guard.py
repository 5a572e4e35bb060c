"""The cast's guard (``pb.voting.guards.requires_voter``) refuses exactly as the role guard does.

It reads the member check and the caller's round in one statement; these tests pin that folding
the reads changed no refusal: an ended login, a stranger, an organisation or round that does not
exist, a member without the citizen role, each with its own status and message, and nothing stored.
"""

from __future__ import annotations

import pytest

from pb.voting.tables import Participation
from tests.helpers import create_organisation, member_with_roles, sign_up_and_log_in
from tests.steps_voting import ballots_url, cast, round_in_voting_with_voters

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def _refused(client, url: str, headers: dict, project: int) -> dict:
    before = await Participation.count()
    response = await client.post(url, json={"projects": [project]}, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert await Participation.count() == before  # a refusal stores nothing
    return {"status": response.status_code, **response.json()}


async def test_the_cast_guard_refuses_as_the_role_guard_does(client):
    world = await round_in_voting_with_voters(client)
    project = world["proposals"]["north"][0]
    url = ballots_url(world, "north")
    other_org_id, _ = await create_organisation(client, "elsewhere")

    _, stranger = await sign_up_and_log_in(client)
    refused = await _refused(client, url, stranger, project)
    assert refused["status"] == 403 and "not a member" in refused["detail"]

    _, auditor = await member_with_roles(client, world["org_id"], world["official"], "auditor")
    refused = await _refused(client, url, auditor, project)
    assert refused["status"] == 403 and "citizen" in refused["detail"]

    missing_org = url.replace(f"/api/orgs/{world['org_id']}/", "/api/orgs/999999/")
    refused = await _refused(client, missing_org, world["voters"][0], project)
    assert refused["status"] == 404 and "organisation" in refused["detail"]

    refused = await _refused(client, url.replace(f"/rounds/{world['round_id']}/", "/rounds/999999/"),
                             world["voters"][0], project)
    assert refused["status"] == 404 and refused["detail"] == "No such round."
    # the round through another organisation's path: the voter is no member there
    refused = await _refused(client, url.replace(f"/api/orgs/{world['org_id']}/", f"/api/orgs/{other_org_id}/"),
                             world["voters"][0], project)
    assert refused["status"] == 403 and "not a member" in refused["detail"]

    voter = world["voters"][0]
    assert (await client.post("/api/auth/logout", headers=voter)).status_code == 204
    refused = await _refused(client, url, voter, project)
    assert refused["status"] == 401 and refused["code"] == "login_ended"

    # the guard let nothing through above; a voter whose login is alive still casts
    assert (await cast(client, world, world["voters"][1], "north", [project])).status_code == 201


async def test_an_ended_login_is_refused_before_anything_about_the_round(client):
    """As with the role guard: 401 comes first, even for a round that does not exist."""
    world = await round_in_voting_with_voters(client)
    voter = world["voters"][0]
    assert (await client.post("/api/auth/logout", headers=voter)).status_code == 204
    url = ballots_url(world, "north").replace(f"/rounds/{world['round_id']}/", "/rounds/999999/")
    refused = await _refused(client, url, voter, world["proposals"]["north"][0])
    assert refused["status"] == 401 and refused["code"] == "login_ended"
