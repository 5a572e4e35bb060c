"""Census, nullifiers, ballot rules and receipts as pure functions (stdlib and pb.tally only).

Why pure: the same rules run when a citizen casts a ballot, when the tally rebuilds the profile,
and when anyone re-verifies the result from the published record.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from pb.core.canonical import canonical_json, sha256_hex
from pb.core.text import TextProblem, clean, refuse_nul
from pb.rounds.domain import (  # the ballot formats a frozen config may name
    APPROVAL, BALLOT_FORMATS, CHOOSE_ONE, CUMULATIVE, KNAPSACK, ORDINAL, POINTS_FORMATS, SCORING,
)
from pb.record.spec import ENGINE_KIND, instance_for, receipt_of  # noqa: F401  (shared with the verifier)
from pb.tally import Ballot, BallotError, Instance, validate_ballot

MAX_IDENTIFIER_LENGTH = 200
MAX_DISTRICT_LENGTH = 80
CENSUS_COLUMNS = ("identifier", "district")

CITYWIDE = "citywide"

VOTING = "voting"
# Phases in which the ballot box is shut: receipts then show their content.
AFTER_CLOSE = frozenset({"closed", "tallied", "published", "funding", "completed"})

NONCE_BYTES = 16  # 128 bits: identical ballots still get distinct receipts


# --- census -------------------------------------------------------------------------------------


def normalise_identifier(identifier: str) -> str:
    """Registry ids are compared without spaces and case, so "ab 12" and "AB12" are one person."""
    return "".join(identifier.split()).upper()


def identifier_hmac(census_key: bytes, organisation_id: int, identifier: str) -> str:
    """What the database stores instead of the identifier; scoped by organisation so the same
    person cannot be linked across tenants."""
    message = f"{organisation_id}:{normalise_identifier(identifier)}".encode()
    return hmac.new(census_key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class CensusLine:
    line: int
    identifier: str
    district: str


@dataclass(frozen=True, slots=True)
class RejectedLine:
    line: int
    reason: str


@dataclass(slots=True)
class CensusFile:
    """A parsed census CSV: the distinct residents, the rejected lines, in-file duplicates."""

    entries: list[CensusLine] = field(default_factory=list)
    rejected: list[RejectedLine] = field(default_factory=list)
    duplicates_in_file: int = 0


def _decode(data: bytes) -> str | RejectedLine:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return RejectedLine(data[: error.start].count(b"\n") + 1, "the file is not valid UTF-8 text")


def _header_columns(row: list[str]) -> dict[str, int] | None:
    names = [name.strip().lower() for name in row]
    if sorted(names) != sorted(CENSUS_COLUMNS):
        return None
    return {name: names.index(name) for name in CENSUS_COLUMNS}


def parse_census_csv(data: bytes) -> CensusFile:
    """Parse ``identifier,district`` rows (header required, any column order).

    Every problem is reported with its line number so the official can fix the file; the caller
    refuses the whole file when anything was rejected (a census is imported completely or not).
    """
    result = CensusFile()
    text = _decode(data)
    if isinstance(text, RejectedLine):
        result.rejected.append(text)
        return result
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    columns: dict[str, int] | None = None
    seen: set[str] = set()
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if columns is None:
                columns = _header_columns(row)
                if columns is None:
                    result.rejected.append(RejectedLine(
                        line, f"the first line must be the header 'identifier,district' (got {','.join(row)!r})"))
                    return result
                continue
            rejection = _check_row(row, columns)
            if rejection:
                result.rejected.append(RejectedLine(line, rejection))
                continue
            identifier = row[columns["identifier"]].strip()
            district = clean(row[columns["district"]], "district")  # the same rule as a budget's district
            key = normalise_identifier(identifier)
            if key in seen:
                result.duplicates_in_file += 1
                continue
            seen.add(key)
            result.entries.append(CensusLine(line, identifier, district))
    except csv.Error as error:
        result.rejected.append(RejectedLine(reader.line_num, f"malformed CSV: {error}"))
    if columns is None and not result.rejected:
        result.rejected.append(RejectedLine(1, "the file is empty: expected the header 'identifier,district'"))
    return result


def _check_row(row: Sequence[str], columns: Mapping[str, int]) -> str | None:
    if len(row) != len(CENSUS_COLUMNS):
        return f"expected {len(CENSUS_COLUMNS)} fields (identifier, district), found {len(row)}"
    try:
        identifier = refuse_nul(row[columns["identifier"]], "identifier").strip()
        district = clean(row[columns["district"]].strip(), "district")
    except TextProblem as problem:
        return str(problem)
    if not identifier or not normalise_identifier(identifier):
        return "the identifier is empty"
    if not district:
        return "the district is empty"
    if len(identifier) > MAX_IDENTIFIER_LENGTH:
        return f"the identifier is longer than {MAX_IDENTIFIER_LENGTH} characters"
    if len(district) > MAX_DISTRICT_LENGTH:
        return f"the district is longer than {MAX_DISTRICT_LENGTH} characters"
    return None


# --- nullifiers ---------------------------------------------------------------------------------


def round_key(census_key: bytes, round_id: int) -> bytes:
    """A per-round key: destroying it later unlinks participation from the census (crypto-shred)."""
    return hmac.digest(census_key, f"round:{round_id}".encode(), "sha256")


def nullifier(census_key: bytes, round_id: int, census_entry_id: int) -> str:
    """Same person, same round -> same value; nothing about the person can be read from it."""
    return hmac.digest(round_key(census_key, round_id), str(census_entry_id).encode(), "sha256").hex()


# --- ballot rules -------------------------------------------------------------------------------


def may_vote_in(budget: Mapping[str, Any], voter_district: str) -> bool:
    """A voter's budgets: their census district's plus every city-wide one."""
    return budget["kind"] == CITYWIDE or budget.get("district") == voter_district


def minimum_spend(amount: int, percent: int) -> int:
    """The smallest total a knapsack ballot must reach: ``percent`` of the budget, rounded up."""
    return -(-amount * percent // 100)


def ballot_limits(budget: Mapping[str, Any]) -> dict[str, int]:
    """The frozen budget's ballot rules in the tally engine's vocabulary.

    A ballot lists at least one project unless the round set another minimum; knapsack ballots
    must fit the budget and reach the optional minimum spend; a cumulative ballot gives every
    listed project at least one point and shares at most ``points_per_voter``; a scoring ballot
    gives every listed project a score from ``score_min`` (default 1) to ``score_max``.
    """
    ballot_format = budget.get("ballot_format", APPROVAL)
    if ballot_format not in BALLOT_FORMATS:
        raise BallotError("unknown_kind", f"the ballot format {ballot_format!r} cannot be cast online")
    limits: dict[str, int] = {"min_length": 1}
    if budget.get("min_projects") is not None:
        limits["min_length"] = int(budget["min_projects"])
    if budget.get("max_projects") is not None:
        limits["max_length"] = int(budget["max_projects"])
    if ballot_format == KNAPSACK:
        limits["max_sum_cost"] = int(budget["amount"])
        if budget.get("min_spend_percent"):
            limits["min_sum_cost"] = minimum_spend(int(budget["amount"]), int(budget["min_spend_percent"]))
    elif ballot_format == CUMULATIVE:
        limits["min_points"] = 1
        limits["max_sum_points"] = int(budget["points_per_voter"])
    elif ballot_format == SCORING:
        limits["min_points"] = int(budget["score_min"]) if budget.get("score_min") is not None else 1
        limits["max_points"] = int(budget["score_max"])
    return limits


def ballot_of(budget: Mapping[str, Any], project_ids: Sequence[int], points: Sequence[int] | None) -> Ballot:
    """The engine's ballot for what a voter sent: a set, a ranking (in the order sent), or
    projects with their points (ordered by project id, so equal ballots look equal)."""
    ballot_format = budget.get("ballot_format", APPROVAL)
    items = tuple(str(pid) for pid in project_ids)
    if ballot_format in POINTS_FORMATS:
        if points is None or len(points) != len(items):
            raise BallotError("malformed_points", "give exactly one points value per listed project, "
                                                  "in the same order as the projects")
        pairs = sorted(zip(project_ids, points))
        return Ballot(tuple(str(pid) for pid, _ in pairs), tuple(int(value) for _, value in pairs))
    if points is not None:
        raise BallotError("malformed_points", f"{ballot_format} ballots carry no points")
    return Ballot(items)


@dataclass(frozen=True, slots=True)
class BallotRules:
    """A frozen budget's ballot rules in the tally engine's terms. Building them (an ``Instance`` of
    every project) costs more than checking a ballot, so a caller checking many ballots of one
    frozen budget builds them once (``ballot_rules``) and passes them to ``check_ballot``."""

    kind: str
    instance: Instance
    limits: Mapping[str, int]


def ballot_rules(budget: Mapping[str, Any]) -> BallotRules:
    """The rules of a frozen budget; ``BallotError`` if its format cannot be cast online."""
    limits = ballot_limits(budget)
    return BallotRules(ENGINE_KIND[budget.get("ballot_format", APPROVAL)], instance_for(budget), limits)


def check_ballot(budget: Mapping[str, Any], project_ids: Sequence[int], points: Sequence[int] | None = None,
                 rules: BallotRules | None = None) -> None:
    """Raise ``BallotError`` (with a ``constraint`` code) if the ballot breaks a frozen rule.
    ``rules``: ``ballot_rules(budget)`` if the caller keeps them."""
    ballot = ballot_of(budget, project_ids, points)
    rules = rules or ballot_rules(budget)
    validate_ballot(ballot, rules.kind, rules.instance, rules.limits)


# --- ballot content and receipts ----------------------------------------------------------------


def ballot_content(round_id: int, budget_id: int, project_ids: Sequence[int], config_hash: str,
                   nonce: str | None = None, *, ballot_format: str = APPROVAL,
                   points: Sequence[int] | None = None) -> dict[str, Any]:
    """The canonical ballot: what was chosen, under which frozen config, plus a random nonce.

    Sets are stored sorted; a ranking in its order (most preferred first); points ballots
    sorted by project with ``points`` alongside.
    """
    if ballot_format == ORDINAL:
        chosen = [int(pid) for pid in project_ids]
    elif ballot_format in POINTS_FORMATS and points is not None:
        pairs = sorted(zip((int(pid) for pid in project_ids), (int(value) for value in points)))
        chosen = [pid for pid, _ in pairs]
        points = [value for _, value in pairs]
    else:
        chosen = sorted(int(pid) for pid in project_ids)
    content = {
        "round_id": round_id,
        "budget_id": budget_id,
        "projects": chosen,
        "config_hash": config_hash,
        "nonce": nonce or secrets.token_hex(NONCE_BYTES),
    }
    if ballot_format in POINTS_FORMATS:
        content["points"] = list(points or ())
    return content


def encode_content(content: Mapping[str, Any]) -> str:
    return canonical_json(dict(content))


# --- sealing: every ballot of a budget has the same size --------------------------------------------

LENGTH_PREFIX_BYTES = 4
PADDING_BLOCK = 256
MAX_POINTS = 1_000_000  # the largest points value a ballot may carry (pb.voting.schemas.CastBallot)


def padded_size(round_id: int, budget: Mapping[str, Any], config_hash: str) -> int:
    """The plaintext size every sealed ballot of this budget is padded to.

    It is the length of the longest content the frozen budget admits (every project listed, each
    with the largest points value), rounded up to a block. It depends only on the public frozen
    config, so the length of a ciphertext says nothing about the ballot inside it.
    """
    ballot_format = budget.get("ballot_format", APPROVAL)
    project_ids = [int(p["proposal_id"]) for p in budget["projects"]]
    points = [MAX_POINTS] * len(project_ids) if ballot_format in POINTS_FORMATS else None
    longest = encode_content(ballot_content(round_id, int(budget["id"]), project_ids, config_hash, "0" * NONCE_BYTES * 2,
                                            ballot_format=ballot_format, points=points))
    needed = LENGTH_PREFIX_BYTES + len(longest.encode())
    return -(-needed // PADDING_BLOCK) * PADDING_BLOCK


def pad(content_json: str, size: int) -> bytes:
    """Length prefix, the content, zeros up to ``size`` (refused if the content does not fit)."""
    data = content_json.encode()
    if LENGTH_PREFIX_BYTES + len(data) > size:
        raise ValueError(f"a ballot of {len(data)} bytes does not fit the sealed size {size}")
    return len(data).to_bytes(LENGTH_PREFIX_BYTES, "big") + data + bytes(size - LENGTH_PREFIX_BYTES - len(data))


def unpad(plaintext: bytes) -> str:
    length = int.from_bytes(plaintext[:LENGTH_PREFIX_BYTES], "big")
    if LENGTH_PREFIX_BYTES + length > len(plaintext):
        raise ValueError("a sealed ballot's length prefix is larger than the ballot")
    return plaintext[LENGTH_PREFIX_BYTES:LENGTH_PREFIX_BYTES + length].decode()
