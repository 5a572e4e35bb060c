"""Request bodies for paying and clawing back tranches."""

from __future__ import annotations

from typing import Annotated

import msgspec

from pb.core.fields import doc

Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class PayTranche(msgspec.Struct, forbid_unknown_fields=True):
    reference: Annotated[Reference, doc("The bank reference of the transfer (required by the ledger gateway).",
                                        "SEPA-2026-05-0042")] | None = None


class ReverseTranche(msgspec.Struct, forbid_unknown_fields=True):
    reference: Annotated[Reference, doc("The bank reference of the returned money (ledger gateway).",
                                        "SEPA-2026-06-0007")] | None = None
