"""The bulletin board over HTTP (public): per-budget roots, ballots page by page, receipt proofs."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.params import FromPath, Parameter

from pb.core.fields import Sha256Hex, doc
from pb.board import service
from pb.board.schemas import ReceiptProof

ROUND = "/api/orgs/{org_id:int}/rounds/{round_id:int}/board"


class BudgetBoardOut(msgspec.Struct):
    budget_id: int
    ballots: int
    merkle_root: str


class SnapshotOut(msgspec.Struct):
    number: int
    ballots: int
    merkle_root: str
    published_at: str
    receipts: list[str]  # sorted; no contents while voting runs
    replaced: list[str]  # receipts of ballots their voters replaced


class BoardOut(msgspec.Struct):
    round_id: int
    phase: Annotated[str, doc("The round's phase: receipts only while voting runs, ballots after close.",
                              "closed")]
    budgets: list[BudgetBoardOut]  # after close
    snapshot: SnapshotOut | None  # while voting runs (None before the first batch)


class BoardBallotOut(msgspec.Struct):
    receipt: Sha256Hex
    content: Annotated[dict[str, Any], doc("The ballot's canonical content: projects, points or ranking, nonce.")]


@get(ROUND, opt={"public": True}, tags=["board"],
     summary="The bulletin board: while voting runs the received receipts (batched snapshot) and their Merkle "
             "root; after close each budget's ballot count and Merkle root")
async def board(request: Request, org_id: FromPath[int], round_id: FromPath[int]) -> BoardOut:
    found = await service.board(org_id, round_id, request.app.state.round_keys)
    snapshot = found.snapshot and SnapshotOut(found.snapshot.number, found.snapshot.ballots,
                                              found.snapshot.merkle_root, found.snapshot.published_at,
                                              found.snapshot.receipt_list, found.snapshot.replaced_list)
    return BoardOut(found.round_id, found.phase, [BudgetBoardOut(b.budget_id, b.ballots, b.merkle_root)
                                                  for b in found.budgets], snapshot or None)


@get(ROUND + "/budgets/{budget_id:int}/ballots", opt={"public": True}, tags=["board"],
     summary="A budget's counted ballots in receipt order (page with after=<last receipt>)")
async def ballots(org_id: FromPath[int], round_id: FromPath[int], budget_id: FromPath[int],
                  after: Annotated[str, Parameter(max_length=64)] = "",
                  limit: Annotated[int, Parameter(ge=1, le=service.PAGE_LIMIT)] = 100) -> list[BoardBallotOut]:
    page = await service.ballots_page(org_id, round_id, budget_id, after.lower(), limit)
    return [BoardBallotOut(receipt, content) for receipt, content in page]


@get(ROUND + "/proofs/{receipt:str}", opt={"public": True}, tags=["board"],
     summary="A receipt's inclusion proof: in the latest snapshot while voting runs, with its ballot after close "
             "(check offline with pb verify receipt)")
async def proof(org_id: FromPath[int], round_id: FromPath[int],
                receipt: Annotated[str, Parameter(max_length=64)]) -> ReceiptProof:
    return await service.receipt_status(org_id, round_id, receipt)


ROUTES = [board, ballots, proof]
