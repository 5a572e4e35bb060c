"""A budget's ballots as a Pabulib ``.pb`` file (the format pabutools and pabulib.org read).

Pure: from the frozen budget and the canonical ballot contents, so the same function serves the
API (ballots from the database) and ``pb record pabulib`` (ballots from a record, offline).
Voters are numbered 1..n in the order of the grouped profile: no identity, no storage order.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from pb.record import format as fmt
from pb.record import spec
from pb.tally import Instance, build_profile
from pb.tally.pabulib import PbElection, write_pb


def budget_to_pb(config: Mapping[str, Any], budget: Mapping[str, Any],
                 contents: Sequence[str | Mapping[str, Any]]) -> str:
    ballot_format = budget.get("ballot_format", "approval")
    profile = build_profile(spec.ENGINE_KIND[ballot_format], spec.engine_ballots(ballot_format, contents))
    rule, _ = spec.tally_options(config)
    meta = {
        "description": f"{config.get('title', '')}: {budget.get('name', '')}",
        "country": "", "unit": str(budget.get("name", "")), "instance": str(config.get("title", "")),
        "currency": str(config.get("currency", "")), "rule": rule,
        "round_id": str(config.get("round_id")), "budget_id": str(budget["id"]),
        "ballot_format": ballot_format,
    }
    base = spec.instance_for(budget)
    return write_pb(PbElection(Instance(base.projects, base.budget, meta), profile, meta))


def record_to_pb(data: bytes, budget_id: int) -> str:
    """One budget of an election record as ``.pb`` text; KeyError if the budget is not in it."""
    record = fmt.read_record(data)
    config = record.json(fmt.CONFIG)
    budget = next((b for b in config["budgets"] if int(b["id"]) == budget_id), None)
    if budget is None:
        raise KeyError(f"budget {budget_id} is not in this record; budgets: "
                       f"{', '.join(str(b['id']) for b in config['budgets'])}")
    rows = record.lines(fmt.ballots_file(budget_id))
    return budget_to_pb(config, budget, [row["content"] for row in rows])
