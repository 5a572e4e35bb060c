"""Reusable steps for census, voting and results tests (other contexts import these; keep them stable)."""

from __future__ import annotations

from typing import Awaitable, Callable

import httpx

CENSUS_CSV = "identifier,district\nN-1,north\nN-2,north\nN-3,north\nS-1,south\nS-2,south\n"


async def import_census(client: httpx.AsyncClient, org_id: int, official: dict[str, str],
                        csv_text: str = CENSUS_CSV) -> dict:
    """An official imports residents; returns the import report."""
    response = await client.post(f"/api/orgs/{org_id}/census/import", content=csv_text.encode(),
                                 headers={**official, "Content-Type": "text/csv"})
    assert response.status_code == 201, response.text
    return response.json()


async def bind(client: httpx.AsyncClient, org_id: int, headers: dict[str, str], identifier: str) -> httpx.Response:
    """A member binds their account to the census entry of ``identifier`` (raw response)."""
    return await client.post(f"/api/orgs/{org_id}/census/binding", json={"identifier": identifier}, headers=headers)


# --- a round through voting, tally and publication ------------------------------------------------
# Voters: the three citizens of ``round_in_voting`` bound to N-1, N-2 and S-1, plus a fourth member
# bound to N-3. Ballots (p = world["proposals"]): north p1 40k, p2 50k, p3 35k, budget 100k;
# south p4 60k, p5 30k, budget 80k; city-wide p6 100k, p7 70k, budget 150k (knapsack).
#   north:     [p1, p2], [p1, p2], [p1, p3]  -> p1 3 votes, p2 2, p3 1 -> p1 + p2 (90k), p3 does not fit
#   south:     [p4]                          -> p4 (60k)
#   city-wide: [p6], [p6], [p7]              -> p6 (100k), p7 does not fit
VOTER_IDENTIFIERS = ("N-1", "N-2", "S-1", "N-3")


def ballots_url(world: dict, budget_key: str) -> str:
    return f"/api/orgs/{world['org_id']}/rounds/{world['round_id']}/budgets/{world['budgets'][budget_key]}/ballots"


async def cast(client: httpx.AsyncClient, world: dict, headers: dict[str, str], budget_key: str,
               projects: list[int], points: list[int] | None = None) -> httpx.Response:
    """Cast a ballot in one budget of the world's round (raw response, so tests can check refusals)."""
    body: dict = {"projects": projects}
    if points is not None:
        body["points"] = points
    return await client.post(ballots_url(world, budget_key), json=body, headers=headers)


async def round_in_voting_with_voters(client: httpx.AsyncClient, slug: str = "city", *,
                                      before_voting: Callable[[dict], Awaitable[None]] | None = None,
                                      round_overrides: dict | None = None) -> dict:
    """``round_in_voting`` with the census (CENSUS_CSV) imported before voting opened and four bound voters.

    ``before_voting(world)`` runs after the census import, just before voting opens.

    Adds to the world: "voters": [headers] (north, north, south, north; the first three are the
    world's citizens), "voter_districts": ["north", "north", "south", "north"].
    """
    from tests.helpers import member_with_roles
    from tests.steps_rounds import round_in_voting

    async def census(world: dict) -> None:
        await import_census(client, world["org_id"], world["official"])
        if before_voting is not None:
            await before_voting(world)

    world = await round_in_voting(client, slug, before_voting=census, round_overrides=round_overrides)
    _, fourth = await member_with_roles(client, world["org_id"], world["official"])
    voters = [citizen["headers"] for citizen in world["citizens"]] + [fourth]
    for headers, identifier in zip(voters, VOTER_IDENTIFIERS):
        response = await bind(client, world["org_id"], headers, identifier)
        assert response.status_code == 200, response.text
    return {**world, "voters": voters, "voter_districts": ["north", "north", "south", "north"]}


async def cast_standard_ballots(client: httpx.AsyncClient, world: dict) -> list[str]:
    """The ballots described above; returns their receipts."""
    p1, p2, p3 = world["proposals"]["north"]
    p4, _ = world["proposals"]["south"]
    p6, p7 = world["proposals"]["citywide"]
    north_a, north_b, south, north_c = world["voters"]
    plan = [
        (north_a, "north", [p1, p2]), (north_b, "north", [p1, p2]), (north_c, "north", [p1, p3]),
        (south, "south", [p4]),
        (north_a, "citywide", [p6]), (north_b, "citywide", [p6]), (south, "citywide", [p7]),
    ]
    receipts = []
    for headers, key, projects in plan:
        response = await cast(client, world, headers, key, projects)
        assert response.status_code == 201, response.text
        receipts.append(response.json()["receipt"])
    return receipts


def expected_winners(world: dict) -> dict[str, list[int]]:
    """The winners the standard ballots must produce, per budget key, in selection order."""
    p1, p2, _ = world["proposals"]["north"]
    return {"north": [p1, p2], "south": [world["proposals"]["south"][0]],
            "citywide": [world["proposals"]["citywide"][0]]}


async def round_closed_with_ballots(client: httpx.AsyncClient, slug: str = "city") -> dict:
    """Voting with the standard ballots cast, then closed. Adds "receipts" to the world."""
    from tests.steps_rounds import advance

    world = await round_in_voting_with_voters(client, slug)
    receipts = await cast_standard_ballots(client, world)
    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
    return {**world, "receipts": receipts}


def round_url(world: dict, suffix: str) -> str:
    return f"/api/orgs/{world['org_id']}/rounds/{world['round_id']}{suffix}"


async def round_tallied(client: httpx.AsyncClient, slug: str = "city") -> dict:
    """A closed round, tallied by an official. Adds "tally" (the tally response body)."""
    world = await round_closed_with_ballots(client, slug)
    response = await client.post(round_url(world, "/tally"), headers=world["official"])
    assert response.status_code == 200, response.text
    return {**world, "tally": response.json()}


async def round_tallied_and_published(client: httpx.AsyncClient, slug: str = "city") -> dict:
    """A whole round up to published results.

    Returns the world of ``round_in_voting`` (org_id, round_id, official, official_id, citizens,
    budgets {key: id}, proposals {key: [ids]}, costs {id: cost}, ...) plus "voters", "receipts",
    "tally", "results" (the public results body) and "selected": {budget key: [proposal ids in
    selection order]} (north: 2 winners, south: 1, city-wide: 1).
    """
    world = await round_tallied(client, slug)
    response = await client.post(round_url(world, "/results/publish"), headers=world["official"])
    assert response.status_code == 200, response.text
    results = (await client.get(round_url(world, "/results"))).json()
    by_budget = {budget["budget_id"]: budget["winners"] for budget in results["budgets"]}
    selected = {key: by_budget[budget_id] for key, budget_id in world["budgets"].items()}
    return {**world, "results": results, "selected": selected}
