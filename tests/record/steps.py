"""Steps for record tests: a published round (with a tie-break lottery by default) and its record."""

from __future__ import annotations

import httpx

from tests.steps_rounds import advance
from tests.steps_voting import cast_standard_ballots, round_in_voting_with_voters, round_url

LOTTERY_OVERRIDES = {"tally_options": {"tie_break": ["lottery"]}}


async def published_round_record(client: httpx.AsyncClient, slug: str = "city", *, lottery: bool = True) -> dict:
    """The standard ballots (tests/steps_voting.py) cast, closed, tallied, published; the record
    downloaded anonymously. Returns the voting world plus "receipts" and "record" (bytes)."""
    world = await round_in_voting_with_voters(client, slug, round_overrides=LOTTERY_OVERRIDES if lottery else None)
    receipts = await cast_standard_ballots(client, world)
    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
    for step in ("/tally", "/results/publish"):
        response = await client.post(round_url(world, step), headers=world["official"])
        assert response.status_code == 200, response.text
    response = await client.get(round_url(world, "/record"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return {**world, "receipts": receipts, "record": response.content}
