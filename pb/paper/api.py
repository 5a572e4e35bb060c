"""JSON API for paper ballots: double entry by two officials, the unconfirmed sheets, clearing one."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from pb.accounts.domain import AUDITOR, OFFICIAL, Actor
from pb.accounts.guards import requires_role
from pb.paper import service

ROUND = "/api/orgs/{org_id:int}/rounds/{round_id:int}/paper-ballots"


class PaperBallotIn(msgspec.Struct, forbid_unknown_fields=True):
    budget_id: int
    sheet: Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._/-]+$")]
    station: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    identifier: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]  # the resident, from the register
    projects: list[int]
    points: list[int] | None = None


class PaperResultOut(msgspec.Struct):
    status: str  # awaiting_second_entry | counted | mismatch
    differences: list[str]  # mismatch: which of resident, projects, points differ from the first entry
    receipt: str | None  # counted: give it to the resident
    content: str | None


class UnconfirmedOut(msgspec.Struct):
    budget_id: int
    sheet: str
    station: str
    status: str  # pending | mismatch
    entered_by: list[int]
    differences: list[str]


@post(ROUND, guards=[requires_role(OFFICIAL)], tags=["paper"], status_code=200,
      summary="Enter a paper ballot; it counts once a second official's entry of the sheet matches")
async def enter(request: Request, actor: NamedDependency[Actor], round_id: FromPath[int],
                data: JSONBody[PaperBallotIn]) -> PaperResultOut:
    result = await service.enter(actor, request.app.state.census_key, request.app.state.round_keys, round_id,
                                 data.budget_id, data.sheet, data.station, data.identifier, data.projects, data.points)
    return PaperResultOut(result.status, result.differences, result.receipt, result.content)


@get(ROUND + "/unconfirmed", guards=[requires_role(OFFICIAL, AUDITOR)], tags=["paper"],
     summary="Paper sheets waiting for their second entry, and mismatches with the fields that differ")
async def unconfirmed(request: Request, actor: NamedDependency[Actor],
                      round_id: FromPath[int]) -> list[UnconfirmedOut]:
    return [UnconfirmedOut(u.budget_id, u.sheet, u.station, u.status, u.entered_by, u.differences)
            for u in await service.unconfirmed(actor, request.app.state.round_keys, round_id)]


@delete(ROUND + "/{budget_id:int}/{sheet:str}", guards=[requires_role(OFFICIAL)], tags=["paper"], status_code=204,
        summary="Clear a sheet's unconfirmed entries so that it is typed again by two officials")
async def clear(actor: NamedDependency[Actor], round_id: FromPath[int], budget_id: FromPath[int],
                sheet: FromPath[str]) -> None:
    await service.clear(actor, round_id, budget_id, sheet)


ROUTES = [enter, unconfirmed, clear]
