"""Response bodies for results and their verification."""

from __future__ import annotations

from typing import Any

from typing import Annotated

import msgspec

from pb.core.fields import EXACT_NUMBER, ExactNumber, MinorUnits, Sha256Hex, choices, doc, money
from pb.rounds.schemas import Phase, TallyOptions, TallyRule
from pb.tally.explain import REASONS

RESULT_HASH = "SHA-256 of this budget's canonical result document (what `verification` recomputes)."


class ProjectResultOut(msgspec.Struct):
    proposal_id: int
    title: str
    cost: Annotated[MinorUnits, money("The project's cost on the ballot.", 1_250_000)]
    votes: Annotated[int, doc("Ballots that listed the project (on points ballots: ballots giving it points).")]
    selected: Annotated[bool, doc("Funded by this result.")]
    rank: Annotated[int, doc("Order in which the rule selected it (1 = first); null when not selected.")] | None
    reason: Annotated[str, doc(choices("Why it was or was not funded.", REASONS), "selected")]
    figures: Annotated[dict[str, Any], doc(
        "The numbers behind the reason, by rule: e.g. votes, score, `money_left` when the project was reached, "
        "MES `rho` (price per unit of satisfaction) and `payments`, max-welfare `welfare`. Every number is "
        "exact: " + EXACT_NUMBER, {"votes": 212, "money_left": "2000000/43"})]


class BudgetResultOut(msgspec.Struct):
    budget_id: int
    name: str
    amount: Annotated[MinorUnits, money("The budget that was shared.")]
    rule: TallyRule
    options: TallyOptions
    ballots: Annotated[int, doc("Ballots counted.")]
    ballots_digest: Annotated[Sha256Hex, doc("SHA-256 over the counted ballots' receipts in order: the same "
                                             "ballots always give the same digest.")]
    winners: Annotated[list[int], doc("Proposal ids of the funded projects, in selection order.")]
    spent: Annotated[ExactNumber, money("Money the winners cost in total; an exact number (integer, or \"n/d\" "
                                        "when costs are fractional).")]
    projects: list[ProjectResultOut]
    result_hash: Annotated[Sha256Hex, doc(RESULT_HASH)]


class RoundResultsOut(msgspec.Struct):
    round_id: int
    phase: Phase
    budgets: list[BudgetResultOut]


class BudgetCheckOut(msgspec.Struct):
    budget_id: int
    match: Annotated[bool, doc("The recomputed result equals the stored one and every receipt is intact.")]
    stored_hash: Annotated[Sha256Hex, doc("The result hash stored at tally time.")] | None
    recomputed_hash: Annotated[Sha256Hex, doc("The result hash recomputed now from the stored ballots.")]
    ballots: int
    participations: int
    receipts_intact: bool


class VerificationOut(msgspec.Struct):
    round_id: int
    match: bool
    budgets: list[BudgetCheckOut]
