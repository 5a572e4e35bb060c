"""Request bodies for paying and clawing back tranches."""

from __future__ import annotations


import msgspec

from pb.core.inputs import Input, line

Reference = line(200)


class PayTranche(Input):
    reference: Reference | None = None  # the bank reference (required by the ledger)


class ReverseTranche(Input):
    reference: Reference | None = None  # the bank reference of the returned money (ledger)
