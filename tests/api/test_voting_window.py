"""The round's voting dates bound casting, and officials see which phase is due when."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.helpers import create_organisation
from tests.steps_rounds import create_round
from tests.steps_voting import cast, round_in_voting_with_voters

pytestmark = [pytest.mark.anyio, pytest.mark.db]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_ballots_are_taken_only_inside_the_voting_window(client):
    now = datetime.now(timezone.utc)
    windows = {
        "early": (now + timedelta(days=1), now + timedelta(days=2)),
        "late": (now - timedelta(days=2), now - timedelta(days=1)),
        "open": (now - timedelta(days=1), now + timedelta(days=1)),
    }
    outcomes = {}
    for name, (start, end) in windows.items():
        world = await round_in_voting_with_voters(
            client, name, round_overrides={"voting_start": _iso(start), "voting_end": _iso(end)})
        response = await cast(client, world, world["voters"][0], "north", world["proposals"]["north"][:1])
        outcomes[name] = response
        staff = await client.get(f"/api/orgs/{world['org_id']}/staff/rounds/{world['round_id']}",
                                 headers=world["official"])
        assert staff.json()["next_phase"]["phase"] == "closed"
        assert staff.json()["next_phase"]["overdue"] is (name == "late")
    assert outcomes["open"].status_code == 201
    for name, words in (("early", "has not started yet"), ("late", "no longer accepted")):
        body = outcomes[name].json()
        assert outcomes[name].status_code == 409 and body["code"] == "outside_voting_window"
        assert words in body["detail"]


async def test_a_draft_round_says_submission_is_overdue_and_one_without_dates_says_nothing(client):
    org_id, official = await create_organisation(client)
    past = _iso(datetime.now(timezone.utc) - timedelta(hours=1))
    dated = await create_round(client, org_id, official, submission_start=past)
    undated = await create_round(client, org_id, official)
    url = f"/api/orgs/{org_id}/staff/rounds"
    assert (await client.get(f"{url}/{dated['round_id']}", headers=official)).json()["next_phase"] == {
        "phase": "submission", "due_at": past, "overdue": True}
    assert (await client.get(f"{url}/{undated['round_id']}", headers=official)).json()["next_phase"] is None
    listed = {r["id"]: r.get("next_phase") for r in (await client.get(url, headers=official)).json()}
    assert listed == {dated["round_id"]: {"phase": "submission", "due_at": past, "overdue": True},
                      undated["round_id"]: None}
