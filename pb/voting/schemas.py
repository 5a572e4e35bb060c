"""Request and response bodies for the census and voting (explicit allow-lists)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from pb.core.inputs import Id, Input
from pb.core.fields import Sha256Hex, doc

Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ProposalId = Id
Receipt = Annotated[Sha256Hex, doc("The ballot's receipt: SHA-256 of its canonical content (with a random nonce). "
                                   "Look it up to check the ballot was recorded as cast.")]
RECEIPT_STATUS = "`received`: the ballot is stored and will be counted."


class BindCensus(Input):
    identifier: Annotated[Identifier, doc("Your resident number (or invitation code) as printed by the city; "
                                          "only its keyed hash is stored.", "RIV-00001")]


class CastBallot(Input):
    # A list, not a set: a repeated project is refused by name (duplicate_project), not merged;
    # on a ranked ballot the order is the ranking, most preferred first.
    projects: Annotated[list[ProposalId], msgspec.Meta(max_length=1000), doc(
        "Proposal ids from the budget's ballot. Ranked (ordinal) ballots: most preferred first. "
        "A project listed twice is refused.", [3, 7])]
    # cumulative and scoring ballots: one whole number per listed project, in the same order
    points: Annotated[list[Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]], msgspec.Meta(max_length=1000), doc(
        "cumulative and scoring ballots only: one whole number per listed project, in the same order.")] \
        | None = None


class LookUpReceipt(Input):
    # in the body, not the URL, so no proxy access log links an address to a receipt
    receipt: Annotated[str, msgspec.Meta(min_length=1, max_length=128),
                       doc("The receipt the voter was given (64 hexadecimal characters).",
                           "9f2c4e0b7a1d3c5e8f6a2b4d0c9e7f1a3b5d7c9e1f3a5b7d9c1e3f5a7b9d1c3e")]


class CensusImportOut(msgspec.Struct):
    lines: int
    imported: int
    duplicates_skipped: int


class CensusBindingOut(msgspec.Struct):
    district: str


class DistrictCountOut(msgspec.Struct):
    district: str
    entries: int
    bound: int


class CastOut(msgspec.Struct):
    receipt: Receipt
    content: Annotated[str, doc("The canonical JSON of the ballot whose SHA-256 is the receipt (keep it to verify).")]
    status: Annotated[str, doc(RECEIPT_STATUS)] = "received"


class BudgetChoiceOut(msgspec.Struct):
    budget_id: int
    name: str
    voted: bool


class ReceiptOut(msgspec.Struct):
    receipt: Receipt
    status: Annotated[str, doc(RECEIPT_STATUS)]
    budget_id: Annotated[int, doc("Shown after voting closed.")] | None = None
    content: Annotated[dict[str, Any], doc("The ballot as recorded (projects, points, nonce), shown after voting "
                                           "closed so the voter can check it.")] | None = None
