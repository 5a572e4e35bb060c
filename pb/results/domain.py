"""From stored ballots to a published result, as pure functions around the ``pb.tally`` engine.

Why pure: the official tally, the verification endpoint and an outside verifier must all compute
the same bytes from the same frozen config and ballots; nothing here depends on storage order.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any, Iterable, Mapping

from pb.core.canonical import canonical_json, sha256_hex
from pb.tally import Ballot, TallyResult, build_profile, tally
from pb.rounds.domain import APPROVAL, ORDINAL, POINTS_FORMATS
from pb.voting.domain import ENGINE_KIND, instance_for

# Tally options a frozen config may carry; anything else is ignored rather than passed blindly.
TALLY_OPTIONS = ("satisfaction", "completion", "tie_break", "seed", "stop_at_first_misfit", "threshold")

STAFF_VISIBLE = frozenset({"tallied", "published", "funding", "completed"})
PUBLIC_VISIBLE = frozenset({"published", "funding", "completed"})


def jsonable(value: Any) -> Any:
    """Exact numbers for canonical JSON: integers stay integers, fractions become "n/d" strings."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    if hasattr(value, "numerator") and hasattr(value, "denominator"):
        return jsonable(Fraction(int(value.numerator), int(value.denominator)))
    raise TypeError(f"cannot put {type(value).__name__} into a result")


def tally_options(config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The rule and keyword options of the frozen config, in ``pb.tally.tally``'s terms."""
    settings = config.get("tally") or {}
    options = dict(settings.get("options") or {})
    kwargs = {key: options[key] for key in TALLY_OPTIONS if key in options and options[key] is not None}
    if isinstance(kwargs.get("tie_break"), list):
        kwargs["tie_break"] = tuple(kwargs["tie_break"])
    if isinstance(kwargs.get("threshold"), str):
        kwargs["threshold"] = Fraction(kwargs["threshold"])
    return settings.get("rule") or "greedy", kwargs


def ballots(ballot_format: str, contents: Iterable[str]) -> list[Ballot]:
    """Stored canonical ballot contents -> the engine's ballots of this budget's format."""
    out = []
    for text in contents:
        content = json.loads(text)
        ids = tuple(str(pid) for pid in content["projects"])
        if ballot_format in POINTS_FORMATS:
            out.append(Ballot(ids, tuple(int(value) for value in content["points"])))
        elif ballot_format == ORDINAL:
            out.append(Ballot(ids))
        else:
            out.append(Ballot(tuple(sorted(ids))))
    return out


def ballots_digest(receipts: Iterable[str]) -> str:
    """One hash over the sorted receipts: which ballots were counted, independent of storage order."""
    return sha256_hex("\n".join(sorted(receipts)))


def tally_budget(config: Mapping[str, Any], budget: Mapping[str, Any], contents: list[str],
                 receipts: list[str]) -> dict[str, Any]:
    """The full, explainable result of one budget as a canonical-JSON-ready document."""
    instance = instance_for(budget)
    ballot_format = budget.get("ballot_format", APPROVAL)
    profile = build_profile(ENGINE_KIND[ballot_format], ballots(ballot_format, contents))
    rule, kwargs = tally_options(config)
    outcome = tally(instance, profile, rule, **kwargs)
    return result_document(budget, rule, outcome, votes_per_project(profile, instance.projects), receipts)


def votes_per_project(profile, project_ids: Iterable[str]) -> dict[str, int]:
    """How many ballots list each project (conservation: sums over ballots, not engine figures)."""
    votes = dict.fromkeys(project_ids, 0)
    for group in profile.groups:
        for pid in set(group.ballot.items):
            votes[pid] = votes.get(pid, 0) + group.count
    return votes


def result_document(budget: Mapping[str, Any], rule: str, outcome: TallyResult, votes: Mapping[str, int],
                    receipts: list[str]) -> dict[str, Any]:
    rank = {pid: position for position, pid in enumerate(outcome.winners, start=1)}
    projects = []
    for project in budget["projects"]:
        pid = str(project["proposal_id"])
        explained = outcome.outcomes[pid]
        projects.append({
            "proposal_id": int(project["proposal_id"]),
            "title": project.get("title", ""),
            "cost": int(project["cost"]),
            "votes": votes.get(pid, 0),
            "selected": explained.selected,
            "rank": rank.get(pid),
            "reason": explained.reason,
            "figures": jsonable(explained.figures),
        })
    return {
        "budget_id": int(budget["id"]),
        "name": budget.get("name", ""),
        "amount": int(budget["amount"]),
        "rule": rule,
        "options": jsonable(outcome.options),
        "ballots": len(receipts),
        "ballots_digest": ballots_digest(receipts),
        "winners": [int(pid) for pid in outcome.winners],
        "spent": jsonable(outcome.spent),
        "projects": projects,
    }


def result_hash(document: Mapping[str, Any]) -> str:
    return sha256_hex(canonical_json(dict(document)))
