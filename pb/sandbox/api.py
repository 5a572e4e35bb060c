"""JSON API of the Pabulib sandbox: import a .pb file, list imports, compare rules side by side."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter, RawBody

from pb.core.fields import doc
from pb.accounts.domain import AUDITOR, OFFICIAL, Actor
from pb.accounts.guards import requires_role
from pb.sandbox import service

BASE = "/api/orgs/{org_id:int}/sandbox/elections"


class SandboxElectionOut(msgspec.Struct):
    id: int
    title: str
    projects: int
    voters: int
    created_at: str


class RuleOutcomeOut(msgspec.Struct):
    rule: Annotated[str, doc("The rule spec compared (as `pb tally` names it, e.g. greedy, mes:add1, phragmen).",
                             "mes:add1")]
    winners: list[str]
    spent: Annotated[int | str, doc("Money the rule spends, in the election's minor units as the .pb file gives them (an exact \"n/d\" string "
                                    "when not whole).", 950000)]


class ComparisonOut(msgspec.Struct):
    election: SandboxElectionOut
    budget: int | str
    rules: Annotated[list[RuleOutcomeOut], doc("One outcome per compared rule, in the order asked.")]
    projects: list[dict[str, Any]]  # {id, name, cost, selected_by: [rule], reasons: {rule: reason}}


def _out(row) -> SandboxElectionOut:
    return SandboxElectionOut(row.id, row.title, row.projects, row.voters, row.created_at)


@post(BASE, guards=[requires_role(OFFICIAL)], tags=["sandbox"], status_code=201,
      summary="Import a Pabulib .pb file into the organisation's sandbox (never a real round)")
async def import_election(actor: NamedDependency[Actor], body: RawBody,
                          title: Annotated[str, Parameter(max_length=200)] = "") -> SandboxElectionOut:
    """The request body is the .pb file itself."""
    return _out(await service.import_pb(actor, title, body))


@get(BASE, guards=[requires_role(OFFICIAL, AUDITOR)], tags=["sandbox"], summary="Imported sandbox elections")
async def list_elections(actor: NamedDependency[Actor]) -> list[SandboxElectionOut]:
    return [_out(row) for row in await service.list_elections(actor)]


@get(BASE + "/{election_id:int}/comparison", guards=[requires_role(OFFICIAL, AUDITOR)], tags=["sandbox"],
     summary="What each rule would choose on the imported ballots, side by side")
async def comparison(actor: NamedDependency[Actor], election_id: FromPath[int],
                     rules: Annotated[str | None, Parameter(max_length=300)] = None) -> ComparisonOut:
    """``rules`` is a comma-separated list of rule specs (greedy, mes:add1_greedy, phragmen,
    max_welfare, greedy:cardinality…); default: greedy, mes:add1_greedy, phragmen, max_welfare."""
    result = await service.compare(actor, election_id, rules)
    return ComparisonOut(_out(result.election), result.budget,
                         [RuleOutcomeOut(o.label, o.winners, o.spent) for o in result.rules], result.projects)


ROUTES = [import_election, list_elections, comparison]
