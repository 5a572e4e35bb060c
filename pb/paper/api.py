"""JSON API for paper ballots: double entry by two officials, the unconfirmed sheets, clearing one."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from pb.core.fields import Sha256Hex, choices, doc
from pb.core.inputs import Id, Input, line
from pb.accounts.domain import AUDITOR, OFFICIAL, Actor
from pb.accounts.guards import requires_role
from pb.paper import service

ROUND = "/api/orgs/{org_id:int}/rounds/{round_id:int}/paper-ballots"


class PaperBallotIn(Input):
    budget_id: Annotated[Id, doc("The budget the paper ballot is for.", 1)]
    sheet: Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._/-]+$"),
                     doc("The sheet's number as printed on it (both officials enter the same).", "LIB-0042")]
    station: Annotated[line(80), doc("The voting station.", "Central library")]
    identifier: Annotated[str, msgspec.Meta(min_length=1, max_length=200),
                          doc("The resident's identifier from the register (stored only as a nullifier).",
                              "RIV-00001")]
    projects: Annotated[list[Id], msgspec.Meta(max_length=1000), doc("The projects marked on the sheet.", [3, 5])]
    points: Annotated[list[Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]], msgspec.Meta(max_length=1000),
                      doc("Points per project, in the order of projects (points ballots only).", [60, 40])] | None = None


class PaperResultOut(msgspec.Struct):
    status: Annotated[str, doc(choices("Where the sheet stands.", {
        "awaiting_second_entry": "entered once; a second official must enter the same sheet",
        "counted": "both entries agree: the ballot is in the box",
        "mismatch": "the two entries differ (see differences); clear the sheet and enter it again",
    }), "counted")]
    differences: list[str]  # mismatch: which of resident, projects, points differ from the first entry
    receipt: Annotated[Sha256Hex, doc("Counted: the receipt to give to the resident.")] | None
    content: Annotated[str, doc("Counted: the canonical JSON of the ballot whose SHA-256 is the receipt.")] | None


class UnconfirmedOut(msgspec.Struct):
    budget_id: int
    sheet: str
    station: str
    status: Annotated[str, doc(choices("Why the sheet is not counted yet.", {
        "pending": "waiting for a second official's entry",
        "mismatch": "the two entries differ",
    }), "pending")]
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
