"""Request bodies for paying and clawing back tranches."""

from __future__ import annotations

from typing import Annotated

import msgspec

Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class PayTranche(msgspec.Struct, forbid_unknown_fields=True):
    reference: Reference | None = None  # the bank reference (required by the ledger)


class ReverseTranche(msgspec.Struct, forbid_unknown_fields=True):
    reference: Reference | None = None  # the bank reference of the returned money (ledger)
