"""Rule comparison: what each voting rule would choose on the same ballots, side by side.

Pure: a parsed Pabulib election in, one row per project with every rule's decision out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from pb.record.spec import jsonable  # noqa: F401  (service uses domain.jsonable)
from pb.tally import tally
from pb.tally.cli import parse_rule_spec
from pb.tally.pabulib import PbElection

DEFAULT_RULES = ("greedy", "mes:add1_greedy", "phragmen", "max_welfare")
MAX_RULES = 8


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    label: str
    winners: list[str]
    spent: int | str
    reasons: dict[str, str]  # project id -> the rule's reason code


def rule_labels(text: str | None) -> list[str]:
    """``"greedy,mes:add1"`` -> labels; ValueError naming a bad spec or too many rules."""
    labels = [part.strip() for part in (text or ",".join(DEFAULT_RULES)).split(",") if part.strip()]
    if not labels or len(labels) > MAX_RULES:
        raise ValueError(f"give between 1 and {MAX_RULES} rules, comma-separated")
    for label in labels:
        parse_rule_spec(label)
    return labels


def compare(election: PbElection, labels: Sequence[str]) -> list[RuleOutcome]:
    """Run every rule on the election (lexicographic tie-break, as pabutools does)."""
    outcomes = []
    for label in labels:
        rule = parse_rule_spec(label)
        kwargs = {"satisfaction": rule.satisfaction}
        if rule.rule == "mes":
            kwargs["completion"] = rule.completion
        if rule.rule == "phragmen":
            kwargs.pop("satisfaction")
        result = tally(election.instance, election.profile, rule.rule, **kwargs)
        outcomes.append(RuleOutcome(rule.label, list(result.winners), jsonable(result.spent),
                                    {pid: o.reason for pid, o in result.outcomes.items()}))
    return outcomes
