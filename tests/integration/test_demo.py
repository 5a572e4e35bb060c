"""`pb demo` builds a realistic city through the real services, on both engines, idempotently."""

from __future__ import annotations

import pytest

from pb import demo

pytestmark = [pytest.mark.anyio, pytest.mark.db]

VOTERS = 24


@pytest.fixture
def demo_settings(settings):
    return settings.with_overrides(demo_voters=VOTERS)


async def _log_in(client, email: str) -> dict[str, str]:
    response = await client.post("/api/auth/login", json={"email": email, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_the_demo_city_has_a_funded_round_and_an_open_one(client, demo_settings):
    from pb.grants import repo as grants_repo
    from pb.proposals import repo as proposals_repo
    from pb.rounds import repo as rounds_repo

    report = await demo.ensure_demo(demo_settings)
    assert report.created
    organisation_id = report.organisation_id
    past, current = await rounds_repo.list_rounds(organisation_id, True)
    assert (past.phase, current.phase) == ("funding", "voting")

    past_statuses = {p.status for p in await proposals_repo.list_proposals(past.id)}
    current_statuses = {p.status for p in await proposals_repo.list_proposals(current.id)}
    assert {"funded", "ineligible"} <= past_statuses
    assert {"on_ballot", "ineligible", "withdrawn", "draft"} <= current_statuses
    proposals = len(demo.PAST_ROUND_IDEAS) + len(demo.OPEN_ROUND_IDEAS)
    assert proposals >= 20

    grants = await grants_repo.grants_of_round(organisation_id, past.id)
    assert grants and all(0 < grant.paid < grant.amount for grant in grants)
    assert report.figures["audit chain"].endswith("ok")
    assert report.figures["census entries (bound to accounts)"] == f"{VOTERS} ({VOTERS})"


async def test_every_demo_account_can_log_in_with_the_printed_password(client, demo_settings):
    report = await demo.ensure_demo(demo_settings)
    printed = demo.describe(report, demo_settings)
    for account in report.accounts:
        assert f"{account.email}" in printed and demo.DEMO_PASSWORD in printed
        await _log_in(client, account.email)
    auditor = await _log_in(client, f"auditor@{demo.DEMO_DOMAIN}")
    verdict = await client.get(f"/api/orgs/{report.organisation_id}/audit/verify", headers=auditor)
    assert verdict.json()["ok"] is True and verdict.json()["events_checked"] > 100


async def test_running_the_demo_again_changes_nothing(client, demo_settings):
    first = await demo.ensure_demo(demo_settings)
    again = await demo.ensure_demo(demo_settings)
    assert not again.created
    assert again.organisation_id == first.organisation_id
    assert again.figures == first.figures
