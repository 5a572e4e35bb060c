"""Citizen-side steps of the staff journey, done with the real services (the citizen pages have
their own browser journeys): people join, write and submit proposals, bind their census entry."""

from __future__ import annotations

from pb import demo
from pb.accounts import repo as accounts_repo
from pb.accounts import service as accounts
from pb.core.keyring import load_census_key
from pb.proposals import service as proposals
from pb.rounds import service as rounds
from pb.voting import service as voting
from tests.e2e.world import PASSWORD

PROPOSALS = [  # (budget name, title, cost in minor units)
    ("Harbour", "Harbour benches", 300_000), ("Harbour", "Harbour mural", 250_000),
    ("Hills", "Hills playground", 500_000), ("Whole city", "City bike racks", 400_000),
    ("Whole city", "Private car park", 450_000),
]


async def _member(email: str, name: str, org_id: int):
    user_id = await accounts.sign_up(email, PASSWORD, name)
    await accounts.join_organisation(user_id, org_id)
    return await accounts_repo.actor(user_id, org_id)


async def submit_proposals(org_id: int, round_id: int) -> dict[str, int]:
    """A resident proposes one project per line of PROPOSALS; returns title -> proposal id."""
    author = await _member("proposer@staff.example", "Pat Proposer", org_id)
    budgets = {b.name: b.id for b in (await rounds.round_view(org_id, round_id, include_draft=True)).budgets}
    ids = {}
    for budget, title, cost in PROPOSALS:
        content = {"budget_id": budgets[budget], "title": title, "summary": f"{title} for everyone.",
                   "description": "", "category": "", "requested_amount": cost, "co_proposers": [],
                   "cost_lines": [{"label": "Works", "amount": cost}]}
        ids[title] = await proposals.create_proposal(author, round_id, content)
        await proposals.submit(author, ids[title])
    return ids


async def voters_bind(settings, org_id: int, residents: dict[str, str]) -> None:
    """Each email gets an account bound to its census identifier (imported through the page)."""
    census_key = load_census_key(settings.secrets_dir)
    for email, identifier in residents.items():
        actor = await _member(email, email.split("@")[0], org_id)
        await voting.bind_census_entry(actor, census_key, identifier)


def staff_emails() -> dict[str, str]:
    return {"official": f"official@{demo.DEMO_DOMAIN}", "official2": f"official2@{demo.DEMO_DOMAIN}",
            "reviewer": f"reviewer@{demo.DEMO_DOMAIN}", "auditor": f"auditor@{demo.DEMO_DOMAIN}"}


async def waiting_proposal(org_id: int, round_id: int, title: str) -> int:
    """A submitted proposal in ``round_id`` (taking proposals), for pages that show the review form."""
    author = await _member(f"{title.lower().replace(' ', '-')}@staff.example", title, org_id)
    budget = (await rounds.round_view(org_id, round_id, include_draft=True)).budgets[0]
    content = {"budget_id": budget.id, "title": title, "summary": "Waiting for review.", "description": "",
               "category": "", "requested_amount": 10_000, "co_proposers": [],
               "cost_lines": [{"label": "Works", "amount": 10_000}]}
    proposal_id = await proposals.create_proposal(author, round_id, content)
    await proposals.submit(author, proposal_id)
    return proposal_id


async def first_grant(org_id: int, round_id: int) -> tuple[int, int]:
    """(a grant of the round, a budget of the round) as the official sees them."""
    from pb.grants import service as grants

    official = await accounts_repo.actor((await accounts_repo.user_by_email(f"official@{demo.DEMO_DOMAIN}")).id,
                                         org_id)
    grant = (await grants.list_grants(official, round_id))[0]
    return grant.id, (await rounds.round_view(org_id, round_id, include_draft=True)).budgets[0].id
