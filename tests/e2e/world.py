"""The data the browser tests walk through, built with the real service functions.

On top of the demo city (a funded round and a round in voting): a round in voting with one
district budget per ballot format and voters for each, and a round taking proposals. Everything
is written through the same services the API and pages call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pb import demo
from pb.accounts import repo as accounts_repo
from pb.accounts import service as accounts
from pb.core.keyring import RoundKeyStore, load_census_key
from pb.proposals import service as proposals
from pb.proposals.domain import CriterionResult
from pb.rounds import service as rounds
from pb.rounds.domain import BudgetSpec

from pb.settings import Settings
from pb.voting import service as voting

PASSWORD = "correct horse battery"
FORMATS = ("approval", "choose-1", "knapsack", "cumulative", "scoring", "ordinal")
VOTERS_PER_FORMAT = 3  # [0] the journey, [1] keyboard-only or JavaScript off, [2] the axe walk (looks only)
NEW_RESIDENTS = 6  # census entries for people who sign up in the browser


@dataclass
class World:
    org_id: int
    past_round: int  # published and funded (demo)
    open_round: int  # voting (demo)
    formats_round: int  # voting, one budget per ballot format
    ideas_round: int  # taking proposals (the sign-up journey moves it to review)
    open_ideas_round: int  # taking proposals, stays so
    budgets: dict[str, int] = field(default_factory=dict)  # ballot format -> budget id
    voters: dict[str, list[str]] = field(default_factory=dict)  # ballot format -> voter emails
    new_residents: list[str] = field(default_factory=list)  # resident numbers not yet bound
    funded_proposal: int = 0
    ideas_budget: int = 0


def _spec(ballot_format: str) -> BudgetSpec:
    district = f"fmt-{ballot_format}"
    name = f"{ballot_format.title()} budget"
    extra = {
        "approval": {"min_projects": 1, "max_projects": 2}, "choose-1": {}, "knapsack": {},
        "cumulative": {"points_per_voter": 5}, "scoring": {"score_min": 1, "score_max": 5},
        "ordinal": {"max_projects": 3},
    }[ballot_format]
    return BudgetSpec(name, "district", district, 50_000, ballot_format=ballot_format, **extra)


def _ok() -> list[CriterionResult]:
    return [CriterionResult(c["key"], True, "") for c in demo.CRITERIA]


async def _actor(email: str, organisation_id: int):
    user = await accounts_repo.user_by_email(email)
    return await accounts_repo.actor(user.id, organisation_id)


async def _round(official, title: str, budgets: list[BudgetSpec], keys: RoundKeyStore) -> int:
    values = {"title": title, "description": "", "max_proposal_amount": 4_000_000, "criteria": demo.CRITERIA,
              "tally_rule": "greedy", "tally_options": {}, "allow_revision": False, "submission_start": None,
              "submission_end": None, "voting_start": None, "voting_end": None}
    round_id = await rounds.create_round(official, values, budgets)
    await rounds.move_phase(official, round_id, "submission", round_keys=keys)
    return round_id


async def build(settings: Settings) -> World:
    accounts.configure_password_hashing(settings.password_time_cost, settings.password_memory_kib)
    report = await demo.ensure_demo(settings)
    org_id = report.organisation_id
    census_key = load_census_key(settings.secrets_dir)
    official = await _actor(f"official@{demo.DEMO_DOMAIN}", org_id)
    reviewer = await _actor(f"reviewer@{demo.DEMO_DOMAIN}", org_id)
    proposer = await _actor(demo.voter_email(1), org_id)

    lines = [f"V-{fmt}-{i},fmt-{fmt}" for fmt in FORMATS for i in range(1, VOTERS_PER_FORMAT + 1)]
    new_residents = [f"NEW-{i:02d}" for i in range(1, NEW_RESIDENTS + 1)]
    lines += [f"{identifier},north" for identifier in new_residents]
    await voting.import_census(official, census_key, ("identifier,district\n" + "\n".join(lines) + "\n").encode())

    keys = RoundKeyStore(settings.secrets_dir)
    formats_round = await _round(official, "Ballot formats", [_spec(fmt) for fmt in FORMATS], keys)
    budget_of = {b.district.removeprefix("fmt-"): b.id
                 for b in (await rounds.round_view(org_id, formats_round, include_draft=True)).budgets}
    project_ids = []
    for fmt in FORMATS:
        for title, cost in ((f"{fmt} park benches", 20_000), (f"{fmt} street lamps", 25_000),
                            (f"{fmt} tree planting", 15_000)):
            content = {"budget_id": budget_of[fmt], "title": title, "summary": f"A {fmt} test project.",
                       "description": "", "category": "", "requested_amount": cost, "co_proposers": [],
                       "cost_lines": [{"label": "Works", "amount": cost}]}
            proposal_id = await proposals.create_proposal(proposer, formats_round, content)
            await proposals.submit(proposer, proposal_id)
            project_ids.append(proposal_id)
    await rounds.move_phase(official, formats_round, "review", round_keys=keys)
    for proposal_id in project_ids:
        await proposals.review(reviewer, proposal_id, _ok(), "eligible", "", None, "")
    await rounds.move_phase(official, formats_round, "voting", round_keys=keys)

    voters: dict[str, list[str]] = {}
    for fmt in FORMATS:
        for i in range(1, VOTERS_PER_FORMAT + 1):
            email = f"voter-{fmt}-{i}@e2e.example"
            user_id = await accounts.sign_up(email, PASSWORD, f"Voter {fmt} {i}")
            await accounts.join_organisation(user_id, org_id)
            await voting.bind_census_entry(await accounts_repo.actor(user_id, org_id), census_key, f"V-{fmt}-{i}")
            voters.setdefault(fmt, []).append(email)

    ideas_round = await _round(official, "Ideas 2027", [BudgetSpec("North district", "district", "north", 6_000_000),
                                                       BudgetSpec("City-wide", "citywide", None, 9_000_000)], keys)
    open_ideas_round = await _round(official, "Ideas 2028", [BudgetSpec("North district", "district", "north",
                                                                            6_000_000)], keys)
    ideas_budget = (await rounds.round_view(org_id, ideas_round, include_draft=True)).budgets[0].id
    past = [r for r in await rounds.list_rounds(org_id, include_drafts=False) if r.phase == "funding"][0]
    open_ = [r for r in await rounds.list_rounds(org_id, include_drafts=False) if r.title.endswith("2026")][0]
    from pb.grants import service as grants
    funded = await grants.funded_projects(org_id, past.id)
    return World(org_id, past.id, open_.id, formats_round, ideas_round, open_ideas_round, budget_of, voters, new_residents,
                 funded[0].proposal_id, ideas_budget)


async def request_changes(settings: Settings, org_id: int, round_id: int, title: str, reason: str) -> int:
    """Staff step of the propose journey: open review and send the proposal back for changes."""
    official = await _actor(f"official@{demo.DEMO_DOMAIN}", org_id)
    reviewer = await _actor(f"reviewer@{demo.DEMO_DOMAIN}", org_id)
    found = await rounds.round_view(org_id, round_id, include_draft=True)
    if found.round.phase == "submission":
        await rounds.move_phase(official, round_id, "review", round_keys=RoundKeyStore(settings.secrets_dir))
    listed = await proposals.list_proposals(reviewer, round_id)
    proposal = next(p for p in listed if p.title == title)
    await proposals.review(reviewer, proposal.id, _ok(), "changes_requested", reason, None, "")
    return proposal.id


async def proposal_status(org_id: int, proposal_id: int) -> str:
    return (await proposals.public_proposal(org_id, proposal_id)).proposal.status
