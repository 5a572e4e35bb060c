"""Close -> tally -> results -> publish over HTTP: fair rule from the frozen config, visibility, verification."""

from __future__ import annotations

import pytest

from tests.steps_voting import (
    expected_winners, round_closed_with_ballots, round_tallied, round_tallied_and_published, round_url,
)

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def test_whole_flow_selects_the_expected_winners(client):
    world = await round_tallied_and_published(client)
    assert world["selected"] == expected_winners(world)
    assert world["results"]["phase"] == "published"
    north = next(b for b in world["results"]["budgets"] if b["budget_id"] == world["budgets"]["north"])
    p1, p2, p3 = world["proposals"]["north"]
    assert north["spent"] == world["costs"][p1] + world["costs"][p2]
    assert north["ballots"] == 3 and north["rule"] == "greedy"
    rows = {p["proposal_id"]: p for p in north["projects"]}
    assert [rows[p]["votes"] for p in (p1, p2, p3)] == [3, 2, 1]
    assert [rows[p]["reason"] for p in (p1, p2, p3)] == ["selected", "selected", "not_affordable"]
    assert [rows[p]["rank"] for p in (p1, p2, p3)] == [1, 2, None]
