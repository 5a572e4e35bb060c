"""The other hot reads of a voting day, and their budgets of SQL statements (issue 11).

Besides the cast, a voting day is mostly reads: the round page, the proposals lists, "which budgets
may I still vote in", and after close the results. Each request shares one connection (no pool
checkout or reset per statement, pb/engines.py); these tests count the statements each one sends
through the real app on both engines and fail if a read grows (an N+1 query added to a list, say).

| read                                      | statements | what                                         |
|-------------------------------------------|------------|----------------------------------------------|
| public round page                         | 2          | round, budgets                               |
| public proposals (search page)            | 5          | round, count, page, co-proposers, reviews     |
| a member's proposals list                 | 4          | guard, round, proposals, co-proposers         |
| my budgets                                | 3          | guard, round with census entry, participation |
| public results                            | 2          | round, tally runs                            |

The round has eight proposals, so a list that asked per proposal (N+1) would blow its budget.
"""

from __future__ import annotations

import pytest

from tests.api.test_cast_statements import _within, counted_statements
from tests.steps_voting import round_in_voting_with_voters, round_tallied_and_published

pytestmark = [pytest.mark.anyio, pytest.mark.db]

BUDGETS = {"round": 2, "public-proposals": 5, "proposals": 4, "my-budgets": 3, "results": 2}


async def _within_budget(client, read: str, url: str, headers: dict | None = None) -> None:
    """One GET of ``url`` sends at most ``BUDGETS[read]`` statements (a first GET warms the caches)."""
    assert (await client.get(url, headers=headers or {})).status_code == 200
    with counted_statements() as counted:
        response = await client.get(url, headers=headers or {})
    assert response.status_code == 200, response.text
    assert _within(counted, BUDGETS[read]), counted.report()


async def test_voting_day_reads_stay_within_their_statement_budgets(client):
    world = await round_in_voting_with_voters(client)
    base = f"/api/orgs/{world['org_id']}/rounds/{world['round_id']}"
    voter = world["voters"][0]
    assert len((await client.get(base + "/proposals", headers=voter)).json()) >= 8
    await _within_budget(client, "round", base)
    await _within_budget(client, "my-budgets", base + "/my-budgets", voter)
    await _within_budget(client, "public-proposals", base + "/public-proposals")
    await _within_budget(client, "proposals", base + "/proposals", voter)


async def test_published_results_stay_within_their_statement_budget(client):
    world = await round_tallied_and_published(client)
    await _within_budget(client, "results", f"/api/orgs/{world['org_id']}/rounds/{world['round_id']}/results")
