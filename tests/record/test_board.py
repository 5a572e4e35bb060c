"""The bulletin board after close: roots per budget, ballots in receipt order, and receipt proofs a
voter checks offline against the election record."""

from __future__ import annotations

import json

import pytest

from pb.record import format as fmt
from pb.record.verify import verify_receipt
from tests.record.steps import published_round_record
from tests.steps_voting import round_in_voting_with_voters, round_url

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def test_after_close_every_receipt_has_a_proof_that_checks_offline_against_the_record(client, tmp_path):
    world = await published_round_record(client, lottery=False)
    board = (await client.get(round_url(world, "/board"))).json()
    summary = fmt.read_record(world["record"]).json(fmt.ROUND)
    assert {b["budget_id"]: b["merkle_root"] for b in board["budgets"]} == {
        b["budget_id"]: b["merkle_root"] for b in summary["budgets"]}
    for receipt in world["receipts"]:
        proof = (await client.get(round_url(world, f"/board/proofs/{receipt.upper()}"))).json()
        assert proof["status"] == "counted" and spec_receipt(proof["content"]) == receipt
        assert verify_receipt(receipt, record=world["record"], proof=proof).ok
    north = world["budgets"]["north"]
    first = (await client.get(round_url(world, f"/board/budgets/{north}/ballots"), params={"limit": 2})).json()
    rest = (await client.get(round_url(world, f"/board/budgets/{north}/ballots"),
                             params={"after": first[-1]["receipt"]})).json()
    receipts = [b["receipt"] for b in first + rest]
    assert receipts == sorted(receipts) and len(receipts) == 3
    missing = await client.get(round_url(world, "/board/proofs/" + "ab" * 32))
    assert missing.status_code == 404 and "missing" in missing.json()["detail"]
    forged = dict(proof, root="00" * 32)
    (tmp_path / "proof.json").write_text(json.dumps(forged))
    assert not verify_receipt(receipt, proof=forged).ok


def spec_receipt(content: dict) -> str:
    from pb.record import spec

    return spec.receipt_of(spec.canonical_json(content))


async def test_ballot_contents_stay_hidden_while_voting_runs(client):
    world = await round_in_voting_with_voters(client)
    for suffix in ("/board/proofs/" + "ab" * 32, f"/board/budgets/{world['budgets']['north']}/ballots"):
        response = await client.get(round_url(world, suffix))
        assert response.status_code == 409 and response.json()["code"] == "board_not_closed"
