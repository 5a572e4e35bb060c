"""Proposals, their authors, reviews and appeals."""

from piccolo.columns import BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from pb.accounts.tables import User
from pb.rounds.tables import Budget, Round


class Proposal(Table):
    organisation_id = Integer(index=True)
    round = ForeignKey(Round, index=True)
    budget = ForeignKey(Budget, index=True)
    author = ForeignKey(User, index=True)
    title = Varchar(length=200)
    summary = Varchar(length=500)
    description = Text(default="")
    category = Varchar(length=80, default="")
    status = Varchar(length=20, default="draft")  # see pb.proposals.domain
    requested_amount = BigInt()  # minor units; the sum of cost lines
    cost_lines = Text(default="[]")  # canonical JSON list of {"label", "amount"}
    final_cost = BigInt(null=True, default=None)  # reviewer-adjusted cost, fixed at voting open
    appealed = Boolean(default=False)  # one appeal per proposal
    created_at = Timestamptz()
    updated_at = Timestamptz()
    submitted_at = Timestamptz(null=True, default=None)


class ProposalCoProposer(Table):
    proposal = ForeignKey(Proposal, index=True)
    user = ForeignKey(User, index=True)
    # UNIQUE(proposal, user): pb/migrations/pb_0003_unique_indexes.py


class Review(Table):
    proposal = ForeignKey(Proposal, index=True)
    reviewer = ForeignKey(User)
    stage = Varchar(length=20)  # "review" or "appeal"
    criteria_results = Text(default="[]")  # JSON list of {"key", "passed", "note"}
    decision = Varchar(length=20)  # "eligible" | "ineligible" | "changes_requested"
    public_reason = Text(default="")
    adjusted_cost = BigInt(null=True, default=None)
    cost_explanation = Text(default="")
    created_at = Timestamptz()


class Appeal(Table):
    proposal = ForeignKey(Proposal, index=True, unique=True)  # one appeal per proposal
    reason = Text()
    created_at = Timestamptz()
