"""The published formulas of an election record: one implementation for producer and verifier.

Why one module: ElectionGuard's College Park pilot shipped a producer and a verifier that encoded
one formula differently. Every hash, receipt, Merkle root, lottery seed and result document the
server writes is computed here, and ``pb verify`` recomputes it with the same code; golden
fixtures (tests/record/golden) pin the bytes so a change of encoding is a deliberate act.

Imports: the standard library, ``pb.core.canonical`` (two stdlib functions) and ``pb.tally``
only, so the verifier runs with no database, server or settings. docs/election-record.md is the
written specification of everything here.
"""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from typing import Any, Iterable, Mapping, Sequence

from pb.core.canonical import canonical_json, sha256_hex
from pb.tally import Ballot, Instance, Project, TallyResult, build_profile, tally

__all__ = ["canonical_json", "sha256_hex"]  # re-exported: the record's canonical encoding

# ballot format of a round -> the tally engine's ballot kind (a knapsack ballot is an approval ballot)
ENGINE_KIND: Mapping[str, str] = {
    "approval": "approval", "choose-1": "choose-1", "knapsack": "approval",
    "cumulative": "cumulative", "scoring": "scoring", "ordinal": "ordinal",
}
POINTS_FORMATS = ("cumulative", "scoring")

# Tally options a frozen config may carry; anything else is ignored rather than passed blindly.
TALLY_OPTIONS = ("satisfaction", "completion", "tie_break", "stop_at_first_misfit", "threshold")
LOTTERY = "lottery"


# --- receipts and ballot sets ----------------------------------------------------------------------


def receipt_of(content_json: str) -> str:
    """The receipt is the SHA-256 of the canonical content, so a voter can recompute it."""
    return sha256_hex(content_json)


def ballots_digest(receipts: Iterable[str]) -> str:
    """One hash over the sorted receipts: which ballots were counted, independent of storage order."""
    return sha256_hex("\n".join(sorted(receipts)))


# --- Merkle tree over sorted receipts (RFC 6962 / 9162 shape) ---------------------------------------


def _leaf(receipt: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(receipt)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _root(leaves: Sequence[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    # iterative bottom-up pairing gives the same tree as RFC 6962's recursive split
    level = list(leaves)
    while len(level) > 1:
        paired = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def merkle_root(receipts: Iterable[str]) -> str:
    """Root of the tree whose leaves are the receipts in ascending order (hex)."""
    return _root([_leaf(r) for r in sorted(receipts)]).hex()


def inclusion_proof(receipts: Sequence[str], receipt: str) -> tuple[int, list[str]]:
    """(leaf index, audit path) of ``receipt`` among the sorted ``receipts``; ValueError if absent."""
    ordered = sorted(receipts)
    index = ordered.index(receipt)
    level = [_leaf(r) for r in ordered]
    position, path = index, []
    while len(level) > 1:
        sibling = position ^ 1
        if sibling < len(level):
            path.append(level[sibling].hex())
        paired = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level, position = paired, position // 2
    return index, path


def root_from_proof(receipt: str, index: int, size: int, path: Sequence[str]) -> str | None:
    """The root a proof leads to (None if the proof has the wrong shape for ``size`` leaves)."""
    if not 0 <= index < size:
        return None
    digest, position, width, steps = _leaf(receipt), index, size, list(path)
    while width > 1:
        sibling = position ^ 1
        if sibling < width:
            if not steps:
                return None
            other = bytes.fromhex(steps.pop(0))
            digest = _node(other, digest) if position % 2 else _node(digest, other)
        position, width = position // 2, (width + 1) // 2
    return digest.hex() if not steps else None


# --- audit chain --------------------------------------------------------------------------------


def audit_event_hash(*, organisation_id: int, seq: int, prev_hash: str, actor: str, action: str, subject: str,
                     payload: str, occurred_at: str) -> str:
    """SHA-256 over the canonical JSON of every field of an audit event but the hash itself."""
    return sha256_hex(canonical_json({
        "organisation_id": organisation_id, "seq": seq, "prev_hash": prev_hash, "actor": actor,
        "action": action, "subject": subject, "payload": payload, "occurred_at": occurred_at,
    }))


def checkpoint_message(organisation_id: int, seq: int, head_hash: str, signed_at: str) -> bytes:
    """The bytes a checkpoint signature covers: which chain, how long, its head, when."""
    return canonical_json({"organisation_id": organisation_id, "seq": seq, "hash": head_hash,
                           "signed_at": signed_at}).encode()


# --- lottery: commit at voting open, reveal at tally ---------------------------------------------


def lottery_commitment(seed_hex: str) -> str:
    """What the frozen config publishes before any ballot exists: SHA-256 of the secret seed."""
    return hashlib.sha256(bytes.fromhex(seed_hex)).hexdigest()


def lottery_draw_seed(seed_hex: str, digest: str) -> str:
    """The seed the tie-break lottery draws from: the revealed seed mixed with the budget's ballot
    digest, so neither the server (committed before the ballots) nor the voters steer it alone."""
    return hashlib.sha256(bytes.fromhex(seed_hex) + bytes.fromhex(digest)).hexdigest()


def uses_lottery(config: Mapping[str, Any]) -> bool:
    tie_break = ((config.get("tally") or {}).get("options") or {}).get("tie_break") or ()
    return LOTTERY in ([tie_break] if isinstance(tie_break, str) else tie_break)


# --- from a frozen budget and its ballots to the result document -----------------------------------


def instance_for(budget: Mapping[str, Any]) -> Instance:
    """The tally engine's view of one frozen budget (project ids are proposal ids as strings)."""
    projects = {
        str(p["proposal_id"]): Project(str(p["proposal_id"]), int(p["cost"]), p.get("title", ""))
        for p in budget["projects"]
    }
    return Instance(projects=projects, budget=int(budget["amount"]))


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


def engine_ballots(ballot_format: str, contents: Iterable[str | Mapping[str, Any]]) -> list[Ballot]:
    """Canonical ballot contents (JSON text or parsed) -> the engine's ballots of this budget's format."""
    out = []
    for item in contents:
        content = json.loads(item) if isinstance(item, str) else item
        ids = tuple(str(pid) for pid in content["projects"])
        if ballot_format in POINTS_FORMATS:
            out.append(Ballot(ids, tuple(int(value) for value in content["points"])))
        elif ballot_format == "ordinal":
            out.append(Ballot(ids))
        else:
            out.append(Ballot(tuple(sorted(ids))))
    return out


def tally_budget(config: Mapping[str, Any], budget: Mapping[str, Any], contents: Sequence[str | Mapping[str, Any]],
                 receipts: Sequence[str], lottery_seed: str | None = None) -> dict[str, Any]:
    """The full, explainable result of one budget as a canonical-JSON-ready document.

    ``lottery_seed`` is the revealed seed (hex) of a round whose tie-break chain draws lots; the
    draw uses it mixed with this budget's ballot digest. ValueError if settings cannot run.
    """
    instance = instance_for(budget)
    ballot_format = budget.get("ballot_format", "approval")
    profile = build_profile(ENGINE_KIND[ballot_format], engine_ballots(ballot_format, contents))
    rule, kwargs = tally_options(config)
    if uses_lottery(config):
        if lottery_seed is None:
            raise ValueError("the tie-break lottery needs the revealed seed")
        kwargs["seed"] = lottery_draw_seed(lottery_seed, ballots_digest(receipts))
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
                    receipts: Sequence[str]) -> dict[str, Any]:
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
