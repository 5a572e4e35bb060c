"""Demonstration data: one city, its people and two rounds, built through the real services.

Every act goes through the service functions the API calls (so the demo's audit chain is the one a
real city would have): census import and binding, rounds and phases, proposals and reviews,
ballots, the tally, grants, tranches and a ledger payment. The one shortcut is bulk voter
accounts: argon2 hashing one password per voter would take minutes, so the shared demo password
is hashed ONCE and that hash is stored for every account through the accounts repo.

Randomness (who proposes, who votes for what) comes from a fixed seed, so every build is the same.
"""

from __future__ import annotations

import io
import random
import sqlite3
import time
from collections import Counter
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from pb.accounts import repo as accounts_repo
from pb.accounts import service as accounts
from pb.accounts.domain import AUDITOR, CITIZEN, OFFICIAL, REVIEWER, Actor, format_roles
from pb.core.keyring import RoundKeyStore
from pb.db import is_postgres, make_engine, write_transaction
from pb.settings import Settings

DEMO_SLUG = "riverton"
DEMO_CITY = "Riverton (demo city)"
DEMO_PASSWORD = "riverton-demo-2026"
DEMO_DOMAIN = "demo.pb.example"
DISTRICTS = ("north", "centre", "south")
CITYWIDE = None
SEED = 2026
EURO = 100  # minor units per euro


@dataclass(frozen=True, slots=True)
class DemoAccount:
    role: str
    email: str
    roles: tuple[str, ...]


STAFF = (
    DemoAccount("official", f"official@{DEMO_DOMAIN}", (OFFICIAL,)),
    DemoAccount("second official (approves payments, decides appeals)", f"official2@{DEMO_DOMAIN}",
                (OFFICIAL, REVIEWER)),
    DemoAccount("reviewer", f"reviewer@{DEMO_DOMAIN}", (REVIEWER,)),
    DemoAccount("auditor", f"auditor@{DEMO_DOMAIN}", (AUDITOR,)),
)

CRITERIA = [
    {"key": "public_benefit", "label": "Benefits the public", "description": "Open to everyone, free of charge."},
    {"key": "feasible", "label": "Feasible", "description": "Legally and technically possible on public land."},
    {"key": "realistic_cost", "label": "Realistic cost", "description": "The cost lines match market prices."},
]


@dataclass(frozen=True, slots=True)
class Idea:
    """A proposal the demo citizens make, and what happens to it in review.

    fate: eligible | adjusted (eligible at a reviewer's cost) | ineligible | changes (changes
    requested, resubmitted, then eligible) | appeal (ineligible, appealed, upheld) | withdrawn | draft.
    """

    district: str | None
    title: str
    summary: str
    cost_lines: tuple[tuple[str, int], ...]  # (label, euros)
    popularity: float  # chance a voter in its budget approves it
    fate: str = "eligible"
    reason: str = ""

    @property
    def amount(self) -> int:
        return sum(euros for _, euros in self.cost_lines) * EURO


PAST_ROUND_IDEAS = (
    Idea("north", "Shade trees along Mill Street", "Plant 24 street trees where the pavement is hottest.",
         (("Trees and planting", 14_000), ("Watering for two years", 4_000)), 0.7),
    Idea("north", "Community tool library", "Lend drills, ladders and garden tools from the old fire station.",
         (("Tools", 6_500), ("Shelving and lockers", 3_000)), 0.5),
    Idea("north", "Safer crossing at North School", "A raised zebra crossing and flashing signs.",
         (("Raised crossing", 17_000), ("Signs", 7_000)), 0.55, "adjusted"),
    Idea("centre", "Repair the bandstand in Market Square", "Fix the roof and the wooden floor for concerts.",
         (("Roof", 12_000), ("Floor", 9_000)), 0.6),
    Idea("centre", "Free drinking fountains", "Four fountains in the squares and the park.",
         (("Fountains", 6_000), ("Plumbing", 2_000)), 0.65),
    Idea("centre", "Public piano for the library", "A weatherproof piano in the library courtyard.",
         (("Piano", 3_500), ("Cover and tuning", 1_000)), 0.35),
    Idea("south", "Skate park refresh", "Resurface the ramps and add a beginners' area.",
         (("Resurfacing", 20_000), ("Beginners' ramps", 10_000)), 0.5),
    Idea("south", "Riverside benches and bins", "Twelve benches and bins along the river walk.",
         (("Benches", 5_000), ("Bins", 2_500)), 0.7),
    Idea("south", "Community garden water tank", "A rain-water tank for the allotments on Wharf Lane.",
         (("Tank", 4_500), ("Fitting", 1_500)), 0.4, "ineligible",
         "The allotments on Wharf Lane are private land; the budget funds projects on public land only."),
    Idea(CITYWIDE, "Cycle repair stations", "Ten stations with pump and tools at stations and schools.",
         (("Stations", 28_000), ("Installation", 7_000)), 0.5),
    Idea(CITYWIDE, "Multilingual welcome signs", "Signs in six languages at the town's entrances.",
         (("Design and translation", 5_000), ("Signs", 10_000)), 0.4),
    Idea(CITYWIDE, "Night bus pilot", "A Friday and Saturday night bus for one year.",
         (("Operator contract", 85_000), ("Stops", 5_000)), 0.45),
)

OPEN_ROUND_IDEAS = (
    Idea("north", "Playground for toddlers", "Soft ground, swings and a sand pit in Elm Park.",
         (("Equipment", 20_000), ("Soft surface", 8_000)), 0.6),
    Idea("north", "Bird boxes in the cemetery", "Forty nesting boxes with the local nature club.",
         (("Boxes", 2_000), ("Fitting", 500)), 0.3, "withdrawn"),
    Idea("centre", "Open-air cinema nights", "Six summer film nights in Market Square.",
         (("Screen and sound", 8_000), ("Licences", 4_000)), 0.55),
    Idea("centre", "Covered bike racks at the station", "Forty covered bike spaces.",
         (("Racks", 7_000), ("Roof", 4_000)), 0.5, "changes"),
    Idea("south", "Riverside path lighting", "Solar lamps on the dark stretch of the river path.",
         (("Lamps", 26_000), ("Cabling-free installation", 7_000)), 0.65),
    Idea("south", "Youth music studio", "A soundproofed practice room in the youth centre.",
         (("Soundproofing", 15_000), ("Instruments", 10_000)), 0.45, "appeal"),
    Idea(CITYWIDE, "Plant 500 trees", "Trees in every district, chosen with residents.",
         (("Trees", 45_000), ("Planting", 15_000)), 0.6),
    Idea(CITYWIDE, "Map of accessible toilets", "Survey and publish every accessible toilet in town.",
         (("Survey", 12_000), ("Map and signs", 8_000)), 0.4),
    Idea(CITYWIDE, "Paint the water tower", "A mural on the water tower.",
         (("Scaffolding", 30_000), ("Mural", 20_000)), 0.3, "ineligible",
         "The water tower belongs to the regional water company, not to the city."),
    Idea(CITYWIDE, "Dog park", "A fenced dog park by the sports ground.",
         (("Fence", 9_000), ("Benches and bins", 2_000)), 0.5, "draft"),
)


@dataclass(slots=True)
class DemoReport:
    organisation_id: int
    created: bool
    seconds: float = 0.0
    accounts: list[DemoAccount] = field(default_factory=list)
    figures: dict[str, int | str] = field(default_factory=dict)


@dataclass(slots=True)
class People:
    official: Actor
    second_official: Actor
    reviewer: Actor
    voters: list[Actor]
    census_key: bytes
    round_keys: RoundKeyStore


def voter_email(number: int) -> str:
    return f"citizen{number:03d}@{DEMO_DOMAIN}"


def voter_district(number: int) -> str:
    return DISTRICTS[number % len(DISTRICTS)]


def census_identifier(number: int) -> str:
    """The resident number printed on the city's letter (only its HMAC is stored)."""
    return f"RIV-{number:05d}"


def _citizen_accounts(settings: Settings) -> list[DemoAccount]:
    shown = min(3, settings.demo_voters)
    return [DemoAccount(f"citizen ({voter_district(n)}; resident number {census_identifier(n)})", voter_email(n),
                        (CITIZEN,)) for n in range(1, shown + 1)]


class _DemoBuildConnection(sqlite3.Connection):
    """Demo build only: in WAL mode, synchronous=NORMAL commits without an fsync each time.

    The build makes ~2,000 small transactions; on an ordinary disk the fsyncs alone take most of a
    minute. NORMAL never corrupts a WAL database; a power cut could lose the last commits, which
    for throwaway demo data is fine. The served app keeps SQLite's durable default.
    (``_wal_held_open`` removes the other fsync source: a checkpoint each time a connection closes.)
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA synchronous=NORMAL")


def build_engine(settings: Settings):
    """The engine the demo is built with (see ``_DemoBuildConnection``)."""
    engine = make_engine(settings.database_url)
    if not is_postgres(engine):
        engine.connection_kwargs["factory"] = _DemoBuildConnection
    return engine


@contextmanager
def _wal_held_open(settings: Settings) -> Iterator[None]:
    """Keep one SQLite connection open during the build.

    Piccolo opens a connection per query; when the last connection to a WAL database closes,
    SQLite checkpoints and syncs. Holding one open turns ~1,000 such checkpoints into a handful.
    """
    if settings.is_postgres:
        yield
        return
    keeper = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"))
    try:
        keeper.execute("SELECT 1").fetchall()
        yield
    finally:
        keeper.close()


def reset_database(settings: Settings) -> None:
    """Delete the demo database so it is rebuilt. Refuses anything but a local SQLite file."""
    if settings.is_postgres:
        raise SystemExit("--reset only deletes a local SQLite demo database; drop the PostgreSQL database yourself")
    path = Path(settings.database_url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# --- people --------------------------------------------------------------------------------------


async def _insert_users(emails_and_names: list[tuple[str, str]], password_hash: str) -> list[int]:
    async with write_transaction():
        return [await accounts_repo.insert_user(email, name, password_hash) for email, name in emails_and_names]


async def _build_people(settings: Settings, census_key: bytes) -> People:
    """The organisation, its staff (roles set by the first official), the voters and the census."""
    from pb.voting import service as voting

    accounts.configure_password_hashing(settings.password_time_cost, settings.password_memory_kib)
    password_hash = await accounts._hash_password(DEMO_PASSWORD)  # once, shared by every demo account
    staff_ids = await _insert_users([(a.email, a.role.split(" (")[0].title()) for a in STAFF], password_hash)
    organisation_id = await accounts.create_organisation(DEMO_CITY, DEMO_SLUG, staff_ids[0])
    official = await accounts_repo.actor(staff_ids[0], organisation_id)
    staff = [official]
    for account, user_id in zip(STAFF[1:], staff_ids[1:]):
        await accounts.join_organisation(user_id, organisation_id)
        await accounts.set_roles(official, user_id, set(account.roles))
        staff.append(await accounts_repo.actor(user_id, organisation_id))

    numbers = range(1, settings.demo_voters + 1)
    voter_ids = await _insert_users([(voter_email(n), f"Citizen {n:03d}") for n in numbers], password_hash)
    async with write_transaction():
        for user_id in voter_ids:
            await accounts_repo.insert_membership(organisation_id, user_id, format_roles({CITIZEN}))
    voters = [Actor(user_id, organisation_id, frozenset({CITIZEN})) for user_id in voter_ids]

    csv = "identifier,district\n" + "".join(f"{census_identifier(n)},{voter_district(n)}\n" for n in numbers)
    await voting.import_census(official, census_key, csv.encode())
    for number, voter in zip(numbers, voters):
        await voting.bind_census_entry(voter, census_key, census_identifier(number))
    return People(official, staff[1], staff[2], voters, census_key, RoundKeyStore(settings.secrets_dir))


# --- rounds and proposals --------------------------------------------------------------------------


async def _create_round(people: People, title: str, description: str, rule: str, options: dict,
                        district_amount: int, citywide_amount: int, citywide_format: str) -> tuple[int, dict]:
    from pb.rounds import repo as rounds_repo
    from pb.rounds import service as rounds
    from pb.rounds.domain import BudgetSpec

    budgets = [BudgetSpec(f"{d.title()} district", "district", d, district_amount * EURO, max_projects=2)
               for d in DISTRICTS]
    budgets.append(BudgetSpec("City-wide", "citywide", None, citywide_amount * EURO, ballot_format=citywide_format,
                              max_projects=None if citywide_format == "knapsack" else 2))
    values = {"title": title, "description": description, "max_proposal_amount": 100_000 * EURO,
              "criteria": CRITERIA, "tally_rule": rule, "tally_options": options, "allow_revision": False,
              "submission_start": None, "submission_end": None, "voting_start": None, "voting_end": None}
    round_id = await rounds.create_round(people.official, values, budgets)
    await rounds.move_phase(people.official, round_id, "submission", round_keys=people.round_keys)
    budget_ids = {b.district: b.id for b in await rounds_repo.list_budgets(round_id)}
    return round_id, budget_ids


def _content(idea: Idea, budget_id: int, co_proposers: list[int]) -> dict:
    return {"budget_id": budget_id, "title": idea.title, "summary": idea.summary, "description": idea.summary,
            "category": "citywide" if idea.district is None else "neighbourhood",
            "requested_amount": idea.amount, "co_proposers": co_proposers,
            "cost_lines": [{"label": label, "amount": euros * EURO} for label, euros in idea.cost_lines]}


async def _propose(people: People, round_id: int, budget_ids: dict, ideas: tuple[Idea, ...],
                   rng: random.Random) -> dict[int, tuple[Idea, Actor]]:
    """Citizens draft and submit; every other proposal has a co-proposer (a neighbour)."""
    from pb.proposals import service as proposals

    made: dict[int, tuple[Idea, Actor]] = {}
    for position, idea in enumerate(ideas):
        author, neighbour = rng.sample(people.voters, 2)
        co_proposers = [neighbour.user_id] if position % 2 else []
        proposal_id = await proposals.create_proposal(author, round_id, _content(idea, budget_ids[idea.district],
                                                                                 co_proposers))
        made[proposal_id] = (idea, author)
        if idea.fate != "draft":
            await proposals.submit(author, proposal_id)
        if idea.fate == "withdrawn":
            await proposals.withdraw(author, proposal_id)
    return made


def _judged(passed: bool, failing_note: str = "") -> list:
    from pb.proposals.domain import CriterionResult

    return [CriterionResult("public_benefit", True), CriterionResult("realistic_cost", True),
            CriterionResult("feasible", passed, "" if passed else failing_note)]


async def _review(people: People, round_id: int, made: dict[int, tuple[Idea, Actor]]) -> None:
    """The reviewer decides each submitted proposal; appeals go to the second official."""
    from pb.proposals import service as proposals
    from pb.rounds import service as rounds

    await rounds.move_phase(people.official, round_id, "review", round_keys=people.round_keys)
    reviewer, appeals = people.reviewer, people.second_official
    for proposal_id, (idea, author) in made.items():
        if idea.fate in ("eligible", "changes"):
            if idea.fate == "changes":
                await proposals.review(reviewer, proposal_id, _judged(True), "changes_requested",
                                       "Please add the cost of a roof to the racks.", None, "")
                await proposals.submit(author, proposal_id)
            await proposals.review(reviewer, proposal_id, _judged(True), "eligible", "Meets every criterion.",
                                   None, "")
        elif idea.fate == "adjusted":
            await proposals.review(reviewer, proposal_id, _judged(True), "eligible", "Eligible at the city's cost.",
                                   idea.amount * 9 // 10, "The city's framework contract is 10 % cheaper.")
        elif idea.fate in ("ineligible", "appeal"):
            reason = idea.reason or "The youth centre lease ends this year."
            await proposals.review(reviewer, proposal_id, _judged(False, reason), "ineligible", reason, None, "")
            if idea.fate == "appeal":
                await proposals.appeal(author, proposal_id, "The lease was renewed for ten years last month.")
                await proposals.decide_appeal(appeals, proposal_id, _judged(True), "eligible",
                                              "Appeal upheld: the lease was renewed.", None, "")


# --- voting, tally, grants -----------------------------------------------------------------------


def _choose(budget: dict, popularity: dict[int, float], rng: random.Random) -> list[int]:
    """One voter's ballot: approve projects by their popularity, within the budget's limits."""
    projects = budget["projects"]
    liked = [p for p in projects if rng.random() < popularity[p["proposal_id"]]]
    liked = liked or [max(projects, key=lambda p: popularity[p["proposal_id"]])]
    rng.shuffle(liked)
    if budget["ballot_format"] == "knapsack":
        chosen, spent = [], 0
        for project in liked:
            if spent + project["cost"] <= budget["amount"]:
                chosen.append(project)
                spent += project["cost"]
        liked = chosen
    if budget.get("max_projects"):
        liked = liked[: budget["max_projects"]]
    return [p["proposal_id"] for p in liked]


async def _vote(people: People, round_id: int, made: dict[int, tuple[Idea, Actor]], turnout: float,
                rng: random.Random) -> int:
    """A share of the voters vote in their district budget and in the city-wide one."""
    from pb.rounds import repo as rounds_repo
    from pb.voting import service as voting

    config = await rounds_repo.frozen_config(round_id)
    popularity = {proposal_id: idea.popularity for proposal_id, (idea, _) in made.items()}
    ballots = 0
    for number, voter in enumerate(people.voters, start=1):
        if rng.random() >= turnout:
            continue
        for budget in config["budgets"]:
            if budget["projects"] and budget["district"] in (None, voter_district(number)):
                await voting.cast_ballot(voter, people.census_key, round_id, budget["id"],
                                         _choose(budget, popularity, rng), round_keys=people.round_keys)
                ballots += 1
    return ballots


async def _fund(people: People, round_id: int, made: dict[int, tuple[Idea, Actor]]) -> None:
    """Grants for the winners, two tranches each (four eyes), the first one paid by bank transfer."""
    from pb.grants import service as grants
    from pb.payments import service as payments
    from pb.proposals import repo as proposals_repo

    selected = [p for p in await proposals_repo.list_proposals(round_id) if p.status == "selected"]
    for number, proposal in enumerate(selected, start=1):
        grant = await grants.create_grant(people.official, round_id, proposal.id)
        first = grant.amount // 2
        signed = await grants.plan_tranche(people.official, grant.id, first, "on signature of the grant agreement")
        await grants.plan_tranche(people.official, grant.id, grant.amount - first, "on the completion report")
        await grants.approve_tranche(people.second_official, grant.id, signed.id)
        await payments.pay_tranche(people.official, grant.id, signed.id, f"RIVERTON-2025-{number:04d}")
        author = made[proposal.id][1]
        await grants.report_progress(author, grant.id, "Agreement signed, work has started.", 20)


async def _past_round(people: People, rng: random.Random) -> int:
    """Last year's round, tallied with Equal Shares, published and funded."""
    from pb.results import service as results
    from pb.rounds import service as rounds

    round_id, budget_ids = await _create_round(
        people, "Riverton decides 2025", "Last year's round: results published, grants being paid.",
        "mes", {"completion": "budget_increase"}, 40_000, 120_000, "knapsack")
    made = await _propose(people, round_id, budget_ids, PAST_ROUND_IDEAS, rng)
    await _review(people, round_id, made)
    await rounds.move_phase(people.official, round_id, "voting", round_keys=people.round_keys)
    await _vote(people, round_id, made, 0.85, rng)
    await rounds.move_phase(people.official, round_id, "closed", round_keys=people.round_keys)
    await results.tally_round(people.official, round_id, round_keys=people.round_keys)
    await results.publish(people.official, round_id)
    await _fund(people, round_id, made)
    return round_id


async def _open_round(people: People, rng: random.Random) -> int:
    """This year's round, open for voting; about half the voters have voted."""
    from pb.rounds import service as rounds

    round_id, budget_ids = await _create_round(
        people, "Riverton decides 2026", "Voting is open: vote in your district and for the whole city.",
        "greedy", {}, 35_000, 100_000, "approval")
    made = await _propose(people, round_id, budget_ids, OPEN_ROUND_IDEAS, rng)
    await _review(people, round_id, made)
    await rounds.move_phase(people.official, round_id, "voting", round_keys=people.round_keys)
    await _vote(people, round_id, made, 0.5, rng)
    return round_id


# --- the whole demo --------------------------------------------------------------------------------


async def _figures(organisation_id: int) -> dict[str, int | str]:
    """What is in the demo city now, read back through the repos."""
    from pb.audit import service as audit
    from pb.grants import repo as grants_repo
    from pb.proposals import repo as proposals_repo
    from pb.rounds import repo as rounds_repo
    from pb.voting import repo as voting_repo

    figures: dict[str, int | str] = {"members": len(await accounts_repo.list_members(organisation_id))}
    census = await voting_repo.district_counts(organisation_id)
    figures["census entries (bound to accounts)"] = (f"{sum(entry.entries for entry in census)} "
                                                     f"({sum(entry.bound for entry in census)})")
    for found in await rounds_repo.list_rounds(organisation_id, True):
        statuses = Counter(p.status for p in await proposals_repo.list_proposals(found.id))
        ballots = sum([await voting_repo.participation_count(found.id, b.id)
                       for b in await rounds_repo.list_budgets(found.id)])
        grants = await grants_repo.grants_of_round(organisation_id, found.id)
        line = (f"phase {found.phase}; {sum(statuses.values())} proposals ("
                + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) + f"); {ballots} ballots")
        if grants:
            line += (f"; {len(grants)} grants, {sum(g.amount for g in grants) // EURO} EUR granted, "
                     f"{sum(g.paid for g in grants) // EURO} EUR paid")
        figures[f"round {found.id} '{found.title}'"] = line
    verdict = await audit.verify(organisation_id)
    figures["audit chain"] = (f"{verdict.events_checked} events, ok" if verdict.ok
                              else f"BROKEN at event {verdict.broken_seq}: {verdict.problem}")
    return figures


async def ensure_demo(settings: Settings) -> DemoReport:
    """Build the demo city unless it exists (idempotent); report what is there."""
    from pb import db
    from pb.core.keyring import load_census_key

    started = time.perf_counter()
    with redirect_stdout(io.StringIO()):  # Piccolo's migration chatter would bury the accounts
        await db.migrate()
    existing = await accounts_repo.organisation_by_slug(DEMO_SLUG)
    if existing is None:
        rng = random.Random(SEED)
        with _wal_held_open(settings):
            people = await _build_people(settings, load_census_key(settings.secrets_dir))
            await _past_round(people, rng)
            await _open_round(people, rng)
        organisation_id, created = people.official.organisation_id, True
    else:
        organisation_id, created = existing.id, False
    return DemoReport(
        organisation_id=organisation_id, created=created, seconds=time.perf_counter() - started,
        accounts=[*STAFF, *_citizen_accounts(settings)], figures=await _figures(organisation_id),
    )


def describe(report: DemoReport, settings: Settings) -> str:
    """What `pb demo` prints: the accounts with their password and the figures."""
    action = f"built in {report.seconds:.1f} s" if report.created else "already present (pb demo --reset rebuilds it)"
    lines = [f"Demo city '{DEMO_CITY}' (organisation {report.organisation_id}) {action}.", "",
             "Sign in at /login in a browser (or POST /api/auth/login) with any of these accounts:"]
    width = max(len(a.email) for a in report.accounts)
    for account in report.accounts:
        lines.append(f"  {account.email:<{width}}  password: {DEMO_PASSWORD}   {account.role}")
    if settings.demo_voters > 3:
        lines.append(f"  … and {voter_email(4)} to {voter_email(settings.demo_voters)}, same password")
    lines += ["", "What is in it:"] + [f"  {name}: {value}" for name, value in report.figures.items()]
    lines.append(f"Database: {settings.database_url}   Secrets (outside the database): {settings.secrets_dir}")
    return "\n".join(lines)
