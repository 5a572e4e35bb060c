"""Tally runs and per-project results."""

from piccolo.columns import BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from pb.rounds.tables import Budget, Round


class TallyRun(Table):
    round = ForeignKey(Round, index=True)
    budget = ForeignKey(Budget, unique=True)  # one stored result per budget
    rule = Varchar(length=40)
    options = Text(default="{}")
    spent = BigInt()
    result = Text()  # canonical JSON of the whole result with explanations
    result_hash = Varchar(length=64)
    created_by = Integer()
    created_at = Timestamptz()


class ProjectResult(Table):
    round = ForeignKey(Round, index=True)
    budget = ForeignKey(Budget, index=True)
    proposal_id = Integer(index=True)
    votes = Integer()
    cost = BigInt()
    selected = Boolean()
    rank = Integer(null=True, default=None)  # selection order among winners
    reason = Varchar(length=40)
    figures = Text(default="{}")
