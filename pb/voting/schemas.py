"""Request and response bodies for the census and voting (explicit allow-lists)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ProposalId = Annotated[int, msgspec.Meta(ge=1)]


class BindCensus(msgspec.Struct, forbid_unknown_fields=True):
    identifier: Identifier


class CastBallot(msgspec.Struct, forbid_unknown_fields=True):
    # A list, not a set: a repeated project is refused by name (duplicate_project), not merged;
    # on a ranked ballot the order is the ranking, most preferred first.
    projects: Annotated[list[ProposalId], msgspec.Meta(max_length=1000)]
    # cumulative and scoring ballots: one whole number per listed project, in the same order
    points: Annotated[list[Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]], msgspec.Meta(max_length=1000)] \
        | None = None


class LookUpReceipt(msgspec.Struct, forbid_unknown_fields=True):
    # in the body, not the URL, so no proxy access log links an address to a receipt
    receipt: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


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
    receipt: str
    content: str  # the canonical JSON whose SHA-256 is the receipt
    status: str = "received"


class BudgetChoiceOut(msgspec.Struct):
    budget_id: int
    name: str
    voted: bool


class ReceiptOut(msgspec.Struct):
    receipt: str
    status: str
    budget_id: int | None = None
    content: dict[str, Any] | None = None
