"""From stored ballots to a published result, as pure functions around the ``pb.tally`` engine.

Why pure: the official tally, the verification endpoint and an outside verifier must all compute
the same bytes from the same frozen config and ballots; nothing here depends on storage order. The
formulas themselves live in ``pb.record.spec`` so that ``pb verify`` runs exactly the same code.
"""

from __future__ import annotations

from pb.record.spec import (  # noqa: F401  (the result formulas, shared with the verifier)
    TALLY_OPTIONS, ballots_digest, engine_ballots as ballots, jsonable, result_document, result_hash,
    tally_budget, tally_options, votes_per_project,
)

STAFF_VISIBLE = frozenset({"tallied", "published", "funding", "completed"})
PUBLIC_VISIBLE = frozenset({"published", "funding", "completed"})
