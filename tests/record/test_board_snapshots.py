"""Board snapshots while voting runs: published in batches of at least MIN_BATCH, sorted, logged."""

from __future__ import annotations

import json
import random

import pytest

from pb.board import service
from pb.record import spec
from pb.record.verify import verify_receipt
from tests.helpers import create_organisation

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def test_snapshots_wait_for_a_batch_are_sorted_logged_and_prove_inclusion(client):
    org_id, official = await create_organisation(client, "board")
    receipts = [spec.sha256_hex(str(i)) for i in range(2 * service.MIN_BATCH + 3)]
    arrived = receipts[: service.MIN_BATCH - 1]
    assert await service.publish_snapshot(org_id, 7, arrived, []) is None  # fewer than a batch: nothing yet
    arrived = receipts[: service.MIN_BATCH]
    first = await service.publish_snapshot(org_id, 7, random.sample(arrived, len(arrived)), [])
    assert first.number == 1 and first.receipt_list == sorted(arrived)
    assert first.merkle_root == spec.merkle_root(arrived)
    assert await service.publish_snapshot(org_id, 7, receipts[: service.MIN_BATCH + 2], []) is None
    second = await service.publish_snapshot(org_id, 7, receipts[: service.MIN_BATCH + 2], [receipts[0]], force=True)
    assert second.number == 2 and second.replaced_list == [receipts[0]]
    proof = service.snapshot_proof(second, receipts[3])
    assert proof.status == "received" and verify_receipt(receipts[3], proof=json.loads(json.dumps(
        {f: getattr(proof, f) for f in proof.__struct_fields__}))).ok
    assert service.snapshot_proof(second, receipts[0]).status == "replaced"
    assert service.snapshot_proof(second, receipts[-1]) is None
    events = (await client.get(f"/api/orgs/{org_id}/audit/events", params={"limit": 100}, headers=official)).json()
    logged = [e["payload"] for e in events if e["action"] == "board.published"]
    assert [(p["snapshot"], p["merkle_root"]) for p in logged] == [(1, first.merkle_root), (2, second.merkle_root)]
