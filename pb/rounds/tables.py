"""Rounds and their budgets (one per district or city-wide)."""

from piccolo.columns import BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from pb.accounts.tables import Organisation


class Round(Table):
    organisation = ForeignKey(Organisation, index=True)
    title = Varchar(length=200)
    description = Text(default="")
    phase = Varchar(length=20, default="draft")  # see pb.rounds.domain.PHASES
    currency = Varchar(length=3, default="EUR")
    max_proposal_amount = BigInt()  # minor units
    tally_rule = Varchar(length=40, default="greedy")  # a rule name of pb.tally
    tally_options = Text(default="{}")  # canonical JSON: satisfaction, completion, tie_break…
    criteria = Text(default="[]")  # canonical JSON list of {"key", "label", "description"}
    allow_revision = Boolean(default=False)
    submission_start = Timestamptz(null=True, default=None)
    submission_end = Timestamptz(null=True, default=None)
    voting_start = Timestamptz(null=True, default=None)
    voting_end = Timestamptz(null=True, default=None)
    frozen_config = Text(null=True, default=None)  # canonical JSON written when voting opens
    frozen_config_hash = Varchar(length=64, null=True, default=None)
    created_by = Integer()
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Budget(Table):
    round = ForeignKey(Round, index=True)
    name = Varchar(length=200)
    kind = Varchar(length=20)  # "district" or "citywide"
    district = Varchar(length=80, null=True, default=None)  # census district code; None for city-wide
    amount = BigInt()  # minor units
    ballot_format = Varchar(length=20, default="approval")  # see pb.rounds.domain.BALLOT_FORMATS
    min_projects = Integer(null=True, default=None)
    max_projects = Integer(null=True, default=None)
    min_spend_percent = Integer(null=True, default=None)  # knapsack: minimum share of the budget
    points_per_voter = Integer(null=True, default=None)  # cumulative: points each voter shares out
    score_min = Integer(null=True, default=None)  # scoring: lowest score of a listed project
    score_max = Integer(null=True, default=None)  # scoring: highest score
    eligible_count = Integer(null=True, default=None)  # census commitment at voting open
    granted = BigInt(default=0)  # sum of grant amounts; never above ``amount`` (conditional UPDATE)
