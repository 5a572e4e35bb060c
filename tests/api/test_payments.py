"""Payments over HTTP through the ledger gateway: the treasurer's bank reference pays an approved
tranche exactly once, retries after a gateway failure use a new key, clawback gives money back."""

from __future__ import annotations

import asyncio

import pytest

from pb.grants import repo as grants_repo
from pb.payments import gateway as gateways
from pb.payments.domain import FAILED, PaymentOrder, PaymentOutcome
from pb.payments.ledger import LedgerGateway
from tests.helpers import create_organisation
from tests.steps_grants import (
    approved_tranche, approved_tranche_world, audit_trail, grant_detail, grant_world, granted, pay, plan,
)

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def test_treasurer_pays_an_approved_tranche_with_a_bank_reference(client):
    world, grant, tranche = await approved_tranche_world(client, 1500)
    response = await pay(client, world, grant["id"], tranche["id"], "SEPA-2026-0001")
    assert response.status_code == 200, response.text
    paid = response.json()
    assert (paid["status"], paid["reference"], paid["gateway"], paid["attempt"]) == ("paid", "SEPA-2026-0001", "ledger", 1)
    assert paid["idempotency_key"] == f"tranche-{tranche['id']}-attempt-1"
    assert paid["paid_by"] is not None and paid["paid_at"]
    assert (await grant_detail(client, world, grant["id"]))["grant"]["paid"] == 1500
    trail = [(a, p) for a, s, p in await audit_trail(client, world) if s == f"tranche:{tranche['id']}"]
    assert [a for a, _ in trail] == ["tranche.planned", "tranche.approved", "tranche.submitted", "tranche.paid"]
    assert trail[2][1]["idempotency_key"] == paid["idempotency_key"]
    assert trail[3][1] == {"grant": grant["id"], "amount": 1500, "attempt": 1, "gateway": "ledger",
                           "reference": "SEPA-2026-0001"}


async def test_paying_before_approval_is_409(client):
    world = await grant_world(client)
    grant = await granted(client, world, world.selected[0])
    tranche = (await plan(client, world, grant["id"], 1000)).json()
    response = await pay(client, world, grant["id"], tranche["id"])
    assert response.status_code == 409
    assert response.json()["code"] == "tranche_state" and "approve" in response.json()["detail"]
    detail = await grant_detail(client, world, grant["id"])
    assert detail["grant"]["paid"] == 0 and detail["tranches"][0]["status"] == "planned"


async def test_the_ledger_needs_a_bank_reference(client):
    world, grant, tranche = await approved_tranche_world(client, 1000)
    response = await pay(client, world, grant["id"], tranche["id"], reference=None)
    assert response.status_code == 422 and response.json()["code"] == "reference_required"
    assert (await grant_detail(client, world, grant["id"]))["tranches"][0]["status"] == "approved"


async def test_paying_twice_is_409_and_pays_once(client):
    world, grant, tranche = await approved_tranche_world(client, 1000)
    assert (await pay(client, world, grant["id"], tranche["id"])).status_code == 200
    again = await pay(client, world, grant["id"], tranche["id"], "SEPA-AGAIN")
    assert again.status_code == 409
    detail = await grant_detail(client, world, grant["id"])
    assert detail["grant"]["paid"] == 1000 and detail["tranches"][0]["reference"] == "BANK-REF-1"


async def test_citizens_cannot_pay_and_other_organisations_get_404(client):
    world, grant, tranche = await approved_tranche_world(client, 1000)
    citizen = await pay(client, world, grant["id"], tranche["id"], headers=world.selected[0].author_headers)
    assert citizen.status_code == 403
    other_org, other_official = await create_organisation(client, "elsewhere")
    response = await client.post(f"/api/orgs/{other_org}/grants/{grant['id']}/tranches/{tranche['id']}/pay",
                                 json={"reference": "X"}, headers=other_official)
    assert response.status_code == 404
    assert (await grant_detail(client, world, grant["id"]))["grant"]["paid"] == 0


async def test_paid_sum_can_never_pass_the_grant(client):
    """Overpayment is refused twice over: tranches cannot be planned beyond the grant (422), and the
    conditional UPDATE on Grant.paid refuses any payment that would pass it."""
    world, grant, tranche = await approved_tranche_world(client)
    assert (await plan(client, world, grant["id"], 1)).status_code == 422
    assert (await pay(client, world, grant["id"], tranche["id"])).status_code == 200
    assert not await grants_repo.add_paid(grant["id"], 1)
    assert (await grant_detail(client, world, grant["id"]))["grant"]["paid"] == grant["amount"]


async def test_twenty_concurrent_payments_of_one_tranche_pay_it_exactly_once(client):
    """Invariant: one approved tranche is paid once (one 200, the rest 409), Grant.paid == its amount."""
    world, grant, tranche = await approved_tranche_world(client, 2500)
    responses = await asyncio.gather(
        *(pay(client, world, grant["id"], tranche["id"], f"REF-{n}") for n in range(20))
    )
    assert sorted(r.status_code for r in responses) == [200] + [409] * 19, [r.text for r in responses]
    detail = await grant_detail(client, world, grant["id"])
    assert detail["grant"]["paid"] == 2500
    assert detail["tranches"][0]["status"] == "paid" and detail["tranches"][0]["attempt"] == 1
    paid_events = [a for a, s, _ in await audit_trail(client, world)
                   if a == "tranche.paid" and s == f"tranche:{tranche['id']}"]
    assert paid_events == ["tranche.paid"]


async def test_concurrent_payments_of_all_tranches_never_overpay(client):
    """Invariant: paying every tranche concurrently (each three times) pays exactly the grant."""
    world = await grant_world(client)
    grant = await granted(client, world, world.selected[0])
    quarter = grant["amount"] // 4
    tranches = [await approved_tranche(client, world, grant["id"], quarter) for _ in range(4)]
    responses = await asyncio.gather(
        *(pay(client, world, grant["id"], t["id"], f"REF-{t['id']}-{n}") for t in tranches for n in range(3))
    )
    assert sorted(r.status_code for r in responses) == [200] * 4 + [409] * 8
    detail = await grant_detail(client, world, grant["id"])
    assert detail["grant"]["paid"] == 4 * quarter <= grant["amount"]
    assert {t["status"] for t in detail["tranches"]} == {"paid"}


class RecordingLedger(LedgerGateway):
    """The ledger, remembering every key it was sent; its first ``refusals`` transfers are refused
    definitively (as a bank or Stripe may refuse one)."""

    def __init__(self, refusals: int = 0) -> None:
        self.keys: list[str] = []
        self.refusals = refusals

    async def disburse(self, order: PaymentOrder) -> PaymentOutcome:
        self.keys.append(order.idempotency_key)
        if len(self.keys) <= self.refusals:
            return PaymentOutcome(FAILED, detail="insufficient balance")
        return await super().disburse(order)


async def test_a_failed_payment_is_retried_with_a_new_attempt_and_key(client, monkeypatch):
    world, grant, tranche = await approved_tranche_world(client, 1000)
    gateway = RecordingLedger(refusals=1)
    monkeypatch.setitem(gateways.GATEWAYS, "ledger", gateway)
    first = await pay(client, world, grant["id"], tranche["id"])
    assert first.status_code == 200 and first.json()["status"] == "failed"
    assert (await grant_detail(client, world, grant["id"]))["grant"]["paid"] == 0
    second = await pay(client, world, grant["id"], tranche["id"])
    assert second.status_code == 200 and second.json()["status"] == "paid" and second.json()["attempt"] == 2
    assert gateway.keys == [f"tranche-{tranche['id']}-attempt-1", f"tranche-{tranche['id']}-attempt-2"]
    assert (await grant_detail(client, world, grant["id"]))["grant"]["paid"] == 1000
    actions = [a for a, s, _ in await audit_trail(client, world) if s == f"tranche:{tranche['id']}"]
    assert actions[2:] == ["tranche.submitted", "tranche.failed", "tranche.submitted", "tranche.paid"]


async def test_clawback_needs_four_eyes_reverses_once_and_frees_its_share(client):
    world, grant, tranche = await approved_tranche_world(client)
    reversals = world.url(f"/grants/{grant['id']}/tranches/{tranche['id']}/reversals")
    body = {"reason": "project abandoned", "reference": "RETURN-1"}
    unpaid = await client.post(reversals, json=body, headers=world.approver)
    assert unpaid.status_code == 409 and unpaid.json()["code"] == "tranche_state"
    assert (await pay(client, world, grant["id"], tranche["id"])).status_code == 200
    asked = await client.post(reversals, json=body, headers=world.approver)
    assert asked.status_code == 201 and asked.json()["status"] == "requested"
    approve = world.url(f"/reversals/{asked.json()['id']}/approve")
    own = await client.post(approve, headers=world.approver)
    assert own.status_code == 403 and own.json()["code"] == "four_eyes"
    done = await client.post(approve, headers=world.planner)
    assert done.status_code == 200 and done.json()["status"] == "done"
    again = await client.post(approve, headers=world.planner)
    assert again.status_code == 409
    detail = await grant_detail(client, world, grant["id"])
    assert (detail["grant"]["paid"], detail["grant"]["planned"]) == (0, 0)
    assert detail["tranches"][0]["status"] == "reversed" and detail["tranches"][0]["reversed_amount"] == grant["amount"]
    assert (await client.post(reversals, json=body, headers=world.approver)).status_code == 409
    assert (await plan(client, world, grant["id"], grant["amount"])).status_code == 201
    trail = [a for a, s, _ in await audit_trail(client, world) if s == f"tranche:{tranche['id']}"]
    assert trail[-3:] == ["tranche.reversal_requested", "tranche.reversal_approved", "tranche.reversed"]


async def test_a_partial_clawback_keeps_the_tranche_paid_and_never_exceeds_it(client):
    world, grant, tranche = await approved_tranche_world(client, 1000)
    assert (await pay(client, world, grant["id"], tranche["id"])).status_code == 200
    reversals = world.url(f"/grants/{grant['id']}/tranches/{tranche['id']}/reversals")
    too_much = await client.post(reversals, json={"reason": "x", "amount": 1001, "reference": "R"},
                                 headers=world.approver)
    assert too_much.status_code == 422 and too_much.json()["code"] == "bad_reversal_amount"
    asked = await client.post(reversals, json={"reason": "unspent", "amount": 400, "reference": "R-1"},
                              headers=world.approver)
    assert (await client.post(world.url(f"/reversals/{asked.json()['id']}/approve"), headers=world.planner)
            ).status_code == 200
    detail = await grant_detail(client, world, grant["id"])
    assert detail["tranches"][0]["status"] == "paid" and detail["tranches"][0]["reversed_amount"] == 400
    assert detail["grant"]["paid"] == 600


async def test_a_payment_interrupted_after_its_claim_is_completed_with_the_same_key(client, monkeypatch):
    """Crash recovery: the claim (status submitted, attempt 1, key stored) committed but the process
    died before the gateway answered; paying again resends attempt 1 with its key, once."""
    world, grant, tranche = await approved_tranche_world(client, 1000)
    key = f"tranche-{tranche['id']}-attempt-1"
    assert await grants_repo.claim_attempt(tranche["id"], "approved", 0, "submitted", 1, key, "ledger")
    gateway = RecordingLedger()
    monkeypatch.setitem(gateways.GATEWAYS, "ledger", gateway)
    response = await pay(client, world, grant["id"], tranche["id"])
    assert response.status_code == 200 and response.json()["status"] == "paid"
    assert (response.json()["attempt"], response.json()["idempotency_key"]) == (1, key)
    assert gateway.keys == [key]
    assert (await grant_detail(client, world, grant["id"]))["grant"]["paid"] == 1000
