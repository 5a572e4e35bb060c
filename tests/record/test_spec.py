"""The record's formulas: pinned by golden values, Merkle proofs, Ed25519, and a verifier that
needs nothing but the record, the stdlib and pb.tally. Pure: no database."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from pb.record import ed25519, spec

HERE = Path(__file__).parent
GOLDEN_RECORD = HERE / "golden" / "record.zip"


def test_golden_encoding_is_unchanged():
    """A change of any formula (canonical JSON, receipt, digest, Merkle tree, audit hash, checkpoint
    bytes, lottery, result document) must be deliberate: regenerate with make_encoding.py and bump
    the record format version."""
    sys.path.insert(0, str(HERE / "golden"))
    try:
        from make_encoding import golden
    finally:
        sys.path.pop(0)
    assert golden() == json.loads((HERE / "golden" / "encoding.json").read_text())


def test_producer_and_verifier_share_the_formulas():
    from pb.audit.domain import event_hash
    from pb.core.canonical import canonical_json
    from pb.results import domain as results_domain
    from pb.voting import domain as voting_domain

    assert event_hash is spec.audit_event_hash and canonical_json is spec.canonical_json
    assert results_domain.tally_budget is spec.tally_budget and voting_domain.receipt_of is spec.receipt_of


def _rfc6962_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written recursively as the RFC states it (the reference)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _rfc6962_root(leaves[:k]) + _rfc6962_root(leaves[k:])).digest()


@settings(max_examples=40, deadline=None)
@given(st.sets(st.binary(min_size=32, max_size=32), max_size=40))
def test_merkle_root_is_rfc6962_and_every_inclusion_proof_leads_to_it(leaves):
    """Invariant: the root equals RFC 6962's Merkle tree hash over the sorted receipts, every
    receipt's proof recomputes it, and a proof never works for a receipt that is not in the tree."""
    receipts = [leaf.hex() for leaf in leaves]
    root = spec.merkle_root(receipts)
    assert root == _rfc6962_root([bytes.fromhex(r) for r in sorted(receipts)]).hex()
    for receipt in receipts:
        index, path = spec.inclusion_proof(receipts, receipt)
        assert spec.root_from_proof(receipt, index, len(receipts), path) == root
        outsider = hashlib.sha256(bytes.fromhex(receipt)).hexdigest()
        if outsider not in receipts:
            assert spec.root_from_proof(outsider, index, len(receipts), path) != root


def test_ed25519_matches_rfc8032_and_the_cryptography_package():
    public = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    signature = bytes.fromhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
                              "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    assert ed25519.verify(public, b"", signature)  # RFC 8032 7.1, test 1
    assert not ed25519.verify(public, b"x", signature)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    for message in (b"", b"checkpoint", os.urandom(100)):
        good = key.sign(message)
        assert ed25519.verify(raw, message, good)
        for bit in (0, 100, 300, 511):
            flipped = bytearray(good)
            flipped[bit // 8] ^= 1 << (bit % 8)
            assert not ed25519.verify(raw, message, bytes(flipped))
    assert not ed25519.verify(public, b"checkpoint", key.sign(b"checkpoint"))  # another key
    assert not ed25519.verify(raw[:31], b"", key.sign(b"")) and not ed25519.verify(raw, b"", b"short")


PROBE = """
import sys, runpy
sys.argv = ["verify", sys.argv[1]]
try:
    runpy.run_module("pb.record.verify", run_name="__main__")
except SystemExit as done:
    code = done.code
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("pb", "piccolo", "litestar", "msgspec", "asyncpg",
                                                              "click", "cryptography", "jwt", "stripe"))
print("LOADED", " ".join(loaded))
sys.exit(code)
"""


def test_verify_runs_with_only_the_record_the_stdlib_and_pb_tally(tmp_path):
    """No database, no settings, no server: the settings point nowhere that exists, and the only pb
    modules loaded are pb.tally, the record package and pb.core.canonical (two stdlib functions)."""
    env = {**os.environ, "PB_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
           "PB_CONFIG": str(tmp_path / "missing.toml"), "PB_SECRETS_DIR": str(tmp_path / "no-secrets")}
    done = subprocess.run([sys.executable, "-c", PROBE, str(GOLDEN_RECORD)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: the record verifies." in done.stdout
    loaded = done.stdout.split("LOADED", 1)[1].split()
    allowed = ("pb.tally", "pb.record.")
    assert all(m in ("pb", "pb.core", "pb.core.canonical", "pb.record") or m.startswith(allowed) for m in loaded), loaded
    assert not (tmp_path / "no-secrets").exists()


def test_pb_verify_command_needs_no_settings_or_database(tmp_path):
    pb = Path(sys.executable).with_name("pb")
    env = {**os.environ, "PB_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
           "PB_SECRETS_DIR": str(tmp_path / "no-secrets")}
    done = subprocess.run([str(pb), "verify", str(GOLDEN_RECORD)], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "recomputed identically" in done.stdout, done.stdout + done.stderr
    receipt = json.loads(subprocess.run(["unzip", "-p", str(GOLDEN_RECORD), "ballots/budget-2.jsonl"],
                                        capture_output=True, text=True).stdout)["receipt"]
    done = subprocess.run([str(pb), "verify", "receipt", receipt, "--record", str(GOLDEN_RECORD)], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "ballot 1 of 1 in budget 2" in done.stdout, done.stdout + done.stderr
    assert not (tmp_path / "no-secrets").exists()


@pytest.mark.parametrize("tamper", ["index", "path", "root"])
def test_a_bad_inclusion_proof_is_refused(tamper):
    from pb.record.verify import verify_receipt

    receipts = sorted(spec.sha256_hex(str(i)) for i in range(5))
    index, path = spec.inclusion_proof(receipts, receipts[2])
    proof = {"receipt": receipts[2], "index": index, "size": 5, "path": path, "root": spec.merkle_root(receipts)}
    assert verify_receipt(receipts[2], proof=proof).ok
    changed = {"index": (index + 1) % 5, "path": ["00" * 32, *path[1:]], "root": "00" * 32}
    bad = {**proof, tamper: changed[tamper]}
    assert not verify_receipt(receipts[2], proof=bad).ok


def test_ballot_lines_are_the_canonical_jsonl_of_the_ballots():
    from pb.record import format as fmt

    contents = [spec.canonical_json({"round_id": 1, "budget_id": 2, "projects": [i, 9], "nonce": "é" * i,
                                     "config_hash": "c"}) for i in range(3)]
    pairs = [(spec.receipt_of(c), c) for c in contents]
    assert fmt.ballot_lines(pairs) == fmt.jsonl([{"receipt": r, "content": json.loads(c)} for r, c in pairs])
