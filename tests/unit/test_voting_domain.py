"""Pure voting rules: census CSV parsing, nullifiers, ballot validation against an oracle, receipts."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pb.tally import BallotError
from pb.voting import domain

KEY = b"k" * 32
identifiers = st.text(alphabet="ABCDEFGHJK0123456789-", min_size=1, max_size=12)
districts = st.sampled_from(["north", "south", "east", "Old Town"])


def _csv(rows: list[tuple[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["identifier", "district"])
    writer.writerows(rows)
    return out.getvalue().encode()


@given(st.lists(st.tuples(identifiers, districts), max_size=40))
def test_every_valid_row_is_kept_once_and_duplicates_are_counted(rows):
    """Invariant: entries + in-file duplicates == rows, and entries are distinct by normalised identifier."""
    parsed = domain.parse_census_csv(_csv(rows))
    assert parsed.rejected == []
    assert len(parsed.entries) + parsed.duplicates_in_file == len(rows)
    keys = [domain.normalise_identifier(e.identifier) for e in parsed.entries]
    assert len(set(keys)) == len(keys) == len({domain.normalise_identifier(i) for i, _ in rows})
    assert [e.line for e in parsed.entries] == sorted(e.line for e in parsed.entries)


@given(st.lists(st.tuples(identifiers, districts), min_size=1, max_size=20), st.data())
def test_a_broken_row_is_reported_with_its_line(rows, data):
    """Invariant: the rejected line number is the physical line of the broken row (header is line 1)."""
    broken = data.draw(st.integers(0, len(rows) - 1))
    lines = ["identifier,district"] + [f"{i},{d}" for i, d in rows]
    lines[broken + 1] = "only-one-field"
    parsed = domain.parse_census_csv("\n".join(lines).encode())
    assert [r.line for r in parsed.rejected] == [broken + 2]


def test_identifier_hmac_normalises_and_is_scoped_by_organisation():
    assert domain.identifier_hmac(KEY, 1, "ab 12") == domain.identifier_hmac(KEY, 1, "AB12")
    assert domain.identifier_hmac(KEY, 1, "AB12") != domain.identifier_hmac(KEY, 2, "AB12")
    assert domain.identifier_hmac(KEY, 1, "AB12") != domain.identifier_hmac(b"x" * 32, 1, "AB12")
    assert "AB12" not in domain.identifier_hmac(KEY, 1, "AB12")


@given(st.integers(1, 10**6), st.integers(1, 10**6), st.integers(1, 10**6))
def test_nullifier_is_stable_per_round_and_entry(round_id, entry, other):
    """Invariant: same (round, entry) -> same nullifier; another round or entry -> another one."""
    assert domain.nullifier(KEY, round_id, entry) == domain.nullifier(KEY, round_id, entry)
    if other != entry:
        assert domain.nullifier(KEY, round_id, entry) != domain.nullifier(KEY, round_id, other)
    if other != round_id:
        assert domain.nullifier(KEY, round_id, entry) != domain.nullifier(KEY, other, entry)


@st.composite
def budgets(draw):
    costs = draw(st.lists(st.integers(1, 100), min_size=1, max_size=6))
    amount = draw(st.integers(1, 300))
    ballot_format = draw(st.sampled_from(domain.BALLOT_FORMATS))
    budget = {"id": 1, "name": "b", "kind": "district", "district": "north", "amount": amount,
              "ballot_format": ballot_format, "min_projects": None, "max_projects": None, "min_spend_percent": None,
              "points_per_voter": None, "score_min": None, "score_max": None,
              "projects": [{"proposal_id": 10 + n, "title": f"p{n}", "cost": c} for n, c in enumerate(costs)]}
    if ballot_format in (domain.APPROVAL, domain.ORDINAL, domain.CUMULATIVE, domain.SCORING):
        budget["min_projects"] = draw(st.none() | st.integers(0, 3))
        budget["max_projects"] = draw(st.none() | st.integers(1, 4))
    if ballot_format == domain.KNAPSACK:
        budget["min_spend_percent"] = draw(st.none() | st.integers(1, 100))
    if ballot_format == domain.CUMULATIVE:
        budget["points_per_voter"] = draw(st.integers(1, 12))
    if ballot_format == domain.SCORING:
        budget["score_max"] = draw(st.integers(1, 5))
        budget["score_min"] = draw(st.none() | st.integers(0, budget["score_max"]))
    return budget


def _oracle(budget: dict, chosen: list[int], points: list[int] | None) -> bool:
    """The ballot rules written out naively, to check the engine-backed validation against."""
    costs = {p["proposal_id"]: p["cost"] for p in budget["projects"]}
    ballot_format = budget["ballot_format"]
    if ballot_format in domain.POINTS_FORMATS:
        if points is None or len(points) != len(chosen):
            return False
    elif points is not None:
        return False
    if len(set(chosen)) != len(chosen) or any(pid not in costs for pid in chosen):
        return False
    if ballot_format == domain.CHOOSE_ONE and len(chosen) != 1:
        return False
    minimum = 1 if budget["min_projects"] is None else budget["min_projects"]
    if len(chosen) < minimum or (budget["max_projects"] is not None and len(chosen) > budget["max_projects"]):
        return False
    total = sum(costs[pid] for pid in chosen)
    if ballot_format == domain.KNAPSACK:
        if total > budget["amount"]:
            return False
        if budget["min_spend_percent"] and total * 100 < budget["amount"] * budget["min_spend_percent"]:
            return False
    if ballot_format == domain.CUMULATIVE:
        if any(value < 1 for value in points) or sum(points) > budget["points_per_voter"]:
            return False
    if ballot_format == domain.SCORING:
        low = 1 if budget["score_min"] is None else budget["score_min"]
        if any(value < low or value > budget["score_max"] for value in points):
            return False
    return True


KNOWN_CONSTRAINTS = {
    "too_many_projects", "too_few_projects", "over_budget", "below_minimum_spend", "unknown_project",
    "duplicate_project", "malformed_points", "too_many_points", "points_per_project_exceeded",
    "points_below_minimum",
}


@settings(max_examples=300)
@given(budgets(), st.lists(st.integers(8, 17), max_size=6), st.none() | st.lists(st.integers(0, 6), max_size=6))
def test_ballot_validation_matches_the_rules_and_names_a_known_constraint(budget, chosen, points):
    """Invariant: on every ballot format, a ballot is accepted exactly when it keeps every frozen
    rule; a refusal names one known constraint."""
    try:
        domain.check_ballot(budget, chosen, points)
        accepted = True
    except BallotError as error:
        accepted = False
        assert error.constraint in KNOWN_CONSTRAINTS
    assert accepted == _oracle(budget, chosen, points)


@given(budgets(), st.lists(st.integers(10, 15), max_size=6, unique=True), st.lists(st.integers(1, 6), max_size=6))
def test_stored_content_keeps_what_the_format_means(budget, chosen, points):
    """Invariant: sets are stored sorted, rankings in their order, points paired with their
    project (sorted by project), whatever order the voter sent them in."""
    points = points[: len(chosen)] + [1] * (len(chosen) - len(points))
    ballot_format = budget["ballot_format"]
    content = domain.ballot_content(1, 1, chosen, "h", "n", ballot_format=ballot_format,
                                    points=points if ballot_format in domain.POINTS_FORMATS else None)
    if ballot_format == domain.ORDINAL:
        assert content["projects"] == chosen
    elif ballot_format in domain.POINTS_FORMATS:
        assert content["projects"] == sorted(chosen)
        assert dict(zip(content["projects"], content["points"])) == dict(zip(chosen, points))
    else:
        assert content["projects"] == sorted(chosen) and "points" not in content


def test_citywide_budgets_are_open_to_every_district():
    assert domain.may_vote_in({"kind": "citywide", "district": None}, "north")
    assert domain.may_vote_in({"kind": "district", "district": "north"}, "north")
    assert not domain.may_vote_in({"kind": "district", "district": "south"}, "north")


def test_unknown_ballot_format_is_refused():
    with pytest.raises(BallotError) as error:
        domain.ballot_limits({"ballot_format": "ranking", "amount": 1})
    assert error.value.constraint == "unknown_kind"


@given(st.lists(st.integers(1, 50), max_size=5), st.integers(1, 99), st.integers(1, 99))
def test_receipt_is_the_hash_of_the_canonical_content_and_nonces_differ(projects, round_id, budget_id):
    """Invariant: receipt == SHA-256(canonical content); identical choices still get distinct receipts."""
    first = domain.ballot_content(round_id, budget_id, projects, "c" * 64)
    second = domain.ballot_content(round_id, budget_id, list(reversed(projects)), "c" * 64)
    encoded = domain.encode_content(first)
    assert domain.receipt_of(encoded) == hashlib.sha256(encoded.encode()).hexdigest()
    assert first["projects"] == second["projects"] == sorted(projects)
    assert first["nonce"] != second["nonce"]
    assert domain.receipt_of(encoded) != domain.receipt_of(domain.encode_content(second))
    assert json.loads(encoded) == first


def test_minimum_spend_rounds_up():
    assert domain.minimum_spend(150_000, 50) == 75_000
    assert domain.minimum_spend(101, 50) == 51


# --- sealing -------------------------------------------------------------------------------------

CONFIG_HASH = "c" * 64


@settings(max_examples=200)
@given(budgets(), st.data())
def test_every_ballot_of_a_budget_pads_to_the_same_size_and_unpads_to_itself(budget, data):
    """Invariant: whatever a valid ballot lists (any projects, any points up to MAX_POINTS), its
    padded plaintext has the budget's one size, so sealed ciphertexts all have one length."""
    ids = [p["proposal_id"] for p in budget["projects"]]
    chosen = data.draw(st.lists(st.sampled_from(ids), unique=True, max_size=len(ids)))
    points = data.draw(st.lists(st.integers(0, domain.MAX_POINTS), min_size=len(chosen), max_size=len(chosen)))
    ballot_format = budget["ballot_format"]
    content = domain.encode_content(domain.ballot_content(
        987, 1, chosen, CONFIG_HASH, ballot_format=ballot_format,
        points=points if ballot_format in domain.POINTS_FORMATS else None))
    size = domain.padded_size(987, budget, CONFIG_HASH)
    padded = domain.pad(content, size)
    assert len(padded) == size and size % domain.PADDING_BLOCK == 0
    assert domain.unpad(padded) == content


def test_a_content_longer_than_the_sealed_size_is_refused_not_cut():
    with pytest.raises(ValueError, match="does not fit"):
        domain.pad("x" * 300, 256)
    with pytest.raises(ValueError, match="length prefix"):
        domain.unpad((1000).to_bytes(4, "big") + b"short")


def test_round_keys_seal_open_and_tag_and_are_gone_once_destroyed(tmp_path):
    from nacl.exceptions import CryptoError

    from pb.core.keyring import RoundKeyStore

    store = RoundKeyStore(tmp_path)
    keys = store.create(7)
    assert (store.folder / "round-7.json").stat().st_mode & 0o777 == 0o600
    loaded = store.load(7)
    sealed = keys.seal(b"a ballot")
    assert loaded.unseal(sealed) == b"a ballot" and len(sealed) == len(b"a ballot") + 48
    assert loaded.receipt_tag("r") == keys.receipt_tag("r") != RoundKeyStore(tmp_path / "other").create(7).receipt_tag("r")
    assert store.round_ids() == [7]
    with pytest.raises(CryptoError):
        store.create(7).unseal(sealed)  # a new box for the same round cannot open the old one
    assert store.destroy(7) and store.load(7) is None and not store.exists(7) and store.round_ids() == []
    assert not store.destroy(7)
    assert list(store.folder.iterdir()) == []  # no temporary file left behind


def test_sealing_keys_are_used_only_while_the_key_file_is_unchanged(tmp_path):
    """Invariant: a worker's remembered sealing keys (public and tag key, no private key) serve only
    while the round's key file is the one they came from: once another worker destroys the box, this
    one has nothing to seal with; once a new box replaces it, it seals to the new one."""
    from nacl.exceptions import CryptoError

    from pb.core.keyring import RoundKeyStore

    worker, other_worker = RoundKeyStore(tmp_path), RoundKeyStore(tmp_path)
    first = other_worker.create(7)
    sealing = worker.sealing_keys(7)
    assert worker.sealing_keys(7) is sealing and not hasattr(sealing, "private_key")
    assert first.unseal(sealing.seal(b"a ballot")) == b"a ballot"
    assert sealing.receipt_tag("r") == first.receipt_tag("r")
    second = other_worker.create(7)
    renewed = worker.sealing_keys(7)
    assert second.unseal(renewed.seal(b"b")) == b"b" and renewed.receipt_tag("r") == second.receipt_tag("r")
    with pytest.raises(CryptoError):
        first.unseal(renewed.seal(b"b"))
    assert other_worker.destroy(7)
    assert worker.sealing_keys(7) is None and worker.sealing_keys(8) is None
