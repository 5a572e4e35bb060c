"""The bulletin board after close: roots per budget, ballots in receipt order, and receipt proofs a
voter checks offline against the election record."""

from __future__ import annotations

import json

import pytest

from pb.record import format as fmt
from pb.record.verify import verify_receipt
from tests.record.steps import published_round_record
from tests.steps_voting import cast_standard_ballots, round_in_voting_with_voters, round_url

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
    response = await client.get(round_url(world, f"/board/budgets/{world['budgets']['north']}/ballots"))
    assert response.status_code == 409 and response.json()["code"] == "board_not_closed"
    for receipt in (await cast_standard_ballots(client, world))[:2]:
        proof = await client.get(round_url(world, f"/board/proofs/{receipt}"))
        assert proof.status_code == 404 and proof.json()["code"] == "not_on_board_yet"  # 7 ballots: no batch yet
    assert (await client.get(round_url(world, "/board"))).json()["snapshot"] is None


async def test_while_voting_the_board_shows_the_latest_snapshot_and_the_receipt_page_proves_it(client):
    from pb.board import service
    from pb.record import spec as record_spec

    world = await round_in_voting_with_voters(client, "snap")
    assert (await client.get(round_url(world, "/board"))).json()["snapshot"] is None
    receipts = [record_spec.sha256_hex(f"r{i}") for i in range(service.MIN_BATCH)]
    await service.publish_snapshot(world["org_id"], world["round_id"], receipts, [])
    board = (await client.get(round_url(world, "/board"))).json()
    assert board["snapshot"]["receipts"] == sorted(receipts) and board["budgets"] == []
    proof = (await client.get(round_url(world, f"/board/proofs/{receipts[4]}"))).json()
    assert proof["status"] == "received" and proof["content"] is None and verify_receipt(receipts[4], proof=proof).ok
    real = (await cast_standard_ballots(client, world))[0]
    page = await client.get(f"/orgs/{world['org_id']}/rounds/{world['round_id']}/receipts/{real}")
    proof_link = f"/api/orgs/{world['org_id']}/rounds/{world['round_id']}/board/proofs/{real}"
    assert page.status_code == 200 and proof_link in page.text and f"pb verify receipt {real}" in page.text


async def test_sealed_ballots_reach_the_board_as_receipts_only_once_a_batch_has_arrived(client, monkeypatch):
    from pb.board import service

    monkeypatch.setattr(service, "MIN_BATCH", 5)  # the standard ballots are 7: 4 + 3 must not publish twice
    world = await round_in_voting_with_voters(client, "live")
    receipts = await cast_standard_ballots(client, world)
    board = (await client.get(round_url(world, "/board"))).json()
    assert sorted(receipts) == board["snapshot"]["receipts"] and board["snapshot"]["number"] == 1
    assert (await client.get(round_url(world, "/board"))).json()["snapshot"]["number"] == 1  # no new batch
    assert "content" not in json.dumps(board["snapshot"]) and "projects" not in json.dumps(board)
    proof = (await client.get(round_url(world, f"/board/proofs/{receipts[0]}"))).json()
    assert proof["status"] == "received" and verify_receipt(receipts[0], proof=proof).ok
