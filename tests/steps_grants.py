"""Reusable steps for grant and payment tests: a published round with selected proposals, grants,
planned and approved tranches, all through the HTTP API."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from pb.accounts.domain import OFFICIAL
from tests.helpers import member_with_roles
from tests.steps_voting import round_tallied, round_tallied_and_published

GRANT_BUDGET = "north"  # two winners (40 000 and 50 000) and one loser (35 000) in a 100 000 budget


@dataclass(frozen=True)
class Project:
    id: int
    cost: int
    author_headers: dict[str, str]


@dataclass(frozen=True)
class GrantWorld:
    organisation_id: int
    planner: dict[str, str]  # an official (creates grants, plans tranches)
    approver: dict[str, str]  # a second official (four eyes) who is also the treasurer
    round_id: int
    budget_id: int
    budget_amount: int
    selected: list[Project]  # the budget's winners, in selection order
    not_selected: Project

    def url(self, path: str) -> str:
        return f"/api/orgs/{self.organisation_id}{path}"


async def _project(client: httpx.AsyncClient, world: dict, proposal_id: int) -> tuple[Project, str]:
    """The proposal as a grant candidate, and its status."""
    response = await client.get(f"/api/orgs/{world['org_id']}/proposals/{proposal_id}", headers=world["official"])
    assert response.status_code == 200, response.text
    authors = {citizen["id"]: citizen["headers"] for citizen in world["citizens"]}
    proposal = response.json()
    return Project(proposal_id, world["costs"][proposal_id], authors[proposal["author_id"]]), proposal["status"]


async def grant_world_from(client: httpx.AsyncClient, world: dict) -> GrantWorld:
    """The grants view of a tallied world (steps_voting): its north budget, a second official."""
    _, approver = await member_with_roles(client, world["org_id"], world["official"], OFFICIAL)
    detail = await client.get(f"/api/orgs/{world['org_id']}/staff/rounds/{world['round_id']}",
                              headers=world["official"])
    assert detail.status_code == 200, detail.text
    budget_id = world["budgets"][GRANT_BUDGET]
    amount = next(b["amount"] for b in detail.json()["budgets"] if b["id"] == budget_id)
    selected, not_selected = [], []
    for proposal_id in world["proposals"][GRANT_BUDGET]:
        project, status = await _project(client, world, proposal_id)
        (selected if status == "selected" else not_selected).append(project)
    return GrantWorld(world["org_id"], world["official"], approver, world["round_id"], budget_id, amount,
                      selected, not_selected[0])


async def grant_world(client: httpx.AsyncClient) -> GrantWorld:
    """A round with published results, ready for grants."""
    return await grant_world_from(client, await round_tallied_and_published(client))


async def grant_world_before_publication(client: httpx.AsyncClient) -> GrantWorld:
    """A tallied round whose results are not published yet."""
    return await grant_world_from(client, await round_tallied(client))


async def create_grant(client: httpx.AsyncClient, world: GrantWorld, project: Project, **body) -> httpx.Response:
    return await client.post(world.url(f"/rounds/{world.round_id}/grants"), json={"proposal_id": project.id, **body},
                             headers=world.planner)


async def granted(client: httpx.AsyncClient, world: GrantWorld, project: Project) -> dict:
    response = await create_grant(client, world, project)
    assert response.status_code == 201, response.text
    return response.json()


async def plan(client: httpx.AsyncClient, world: GrantWorld, grant_id: int, amount: int,
               condition: str = "on signature") -> httpx.Response:
    return await client.post(world.url(f"/grants/{grant_id}/tranches"), json={"amount": amount, "condition": condition},
                             headers=world.planner)


async def approved_tranche(client: httpx.AsyncClient, world: GrantWorld, grant_id: int, amount: int) -> dict:
    response = await plan(client, world, grant_id, amount)
    assert response.status_code == 201, response.text
    response = await client.post(world.url(f"/grants/{grant_id}/tranches/{response.json()['id']}/approve"),
                                 headers=world.approver)
    assert response.status_code == 200, response.text
    return response.json()


async def pay(client: httpx.AsyncClient, world: GrantWorld, grant_id: int, tranche_id: int,
              reference: str | None = "BANK-REF-1", headers: dict[str, str] | None = None) -> httpx.Response:
    return await client.post(world.url(f"/grants/{grant_id}/tranches/{tranche_id}/pay"),
                             json={"reference": reference} if reference else {}, headers=headers or world.approver)


async def grant_detail(client: httpx.AsyncClient, world: GrantWorld, grant_id: int) -> dict:
    response = await client.get(world.url(f"/grants/{grant_id}"), headers=world.planner)
    assert response.status_code == 200, response.text
    return response.json()


async def audit_trail(client: httpx.AsyncClient, world: GrantWorld) -> list[tuple[str, str, dict]]:
    """(action, subject, payload) of every audit event, after checking the chain still verifies."""
    verdict = await client.get(world.url("/audit/verify"), headers=world.planner)
    assert verdict.status_code == 200 and verdict.json()["ok"], verdict.text
    response = await client.get(world.url("/audit/events"), params={"limit": 1000}, headers=world.planner)
    assert response.status_code == 200, response.text
    return [(e["action"], e["subject"], e["payload"]) for e in response.json()]


async def approved_tranche_world(client: httpx.AsyncClient, amount: int | None = None) -> tuple[GrantWorld, dict, dict]:
    """A grant for the first winner with one approved tranche of ``amount`` (default: the whole grant)."""
    world = await grant_world(client)
    grant = await granted(client, world, world.selected[0])
    tranche = await approved_tranche(client, world, grant["id"], amount or grant["amount"])
    return world, grant, tranche
