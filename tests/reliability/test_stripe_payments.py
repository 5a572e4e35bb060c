"""Stripe Connect payments through the real app and the real ``stripe`` SDK, against the double.

Each scenario of issue 14 runs on SQLite and PostgreSQL: lost responses, 500s, idempotency
conflicts, refusals, the idempotency window passing, concurrent pay requests, webhooks delivered
ten times or in reverse order, and clawbacks refused because the money was paid out.
"""

from __future__ import annotations

import asyncio

import pytest

from pb.payments import worker
from tests.steps_grants import audit_trail, grant_detail
from tests.steps_stripe import (
    DEPLOYMENT, approved, deliver, double, onboarded_grant, pay, pay_unanswered, stripe_client,  # noqa: F401
    stripe_settings, tranche_state, transfer_posts,
)

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def test_an_approved_tranche_is_paid_by_one_transfer_with_the_key_in_the_options(stripe_client, double):
    paid = await onboarded_grant(stripe_client, double)
    tranche = await approved(stripe_client, paid, 1500)
    response = await pay(stripe_client, paid, tranche["id"])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "paid" and response.json()["gateway"] == "stripe"
    [transfer] = double.transfer_for(tranche["id"])
    assert response.json()["reference"] == transfer["id"]
    assert (transfer["amount"], transfer["destination"]) == (1500, paid.account_id)
    assert transfer["transfer_group"] == f"{DEPLOYMENT}:grant:{paid.grant['id']}"
    assert transfer["metadata"] == {"pb_deployment": DEPLOYMENT, "organisation_id": str(paid.world.organisation_id),
                                    "grant_id": str(paid.grant["id"]), "tranche_id": str(tranche["id"]),
                                    "attempt": "1"}
    [headers] = transfer_posts(double)
    assert headers["idempotency-key"] == f"{DEPLOYMENT}:transfer:{tranche['id']}:1"
    assert (await grant_detail(stripe_client, paid.world, paid.grant["id"]))["grant"]["paid"] == 1500
    trail = [(a, p) for a, s, p in await audit_trail(stripe_client, paid.world) if s == f"tranche:{tranche['id']}"]
    assert [a for a, _ in trail][-2:] == ["tranche.submitted", "tranche.paid"]
    assert trail[-1][1]["reference"] == transfer["id"] and trail[-1][1]["confirmed_by"] == "worker"


async def test_a_group_that_has_not_finished_onboarding_is_not_paid(stripe_client, double):
    paid = await onboarded_grant(stripe_client, double)
    capability = double.accounts[paid.account_id]["configuration"]["recipient"]["capabilities"]
    capability["stripe_balance"]["stripe_transfers"]["status"] = "restricted"
    event = {**double.events_of("v2.core.account")[-1], "id": "evt_restricted"}
    assert (await deliver(stripe_client, double, event, "connect")).status_code == 200
    detail = await grant_detail(stripe_client, paid.world, paid.grant["id"])
    assert detail["recipient"]["status"] == "onboarding"
    tranche = await approved(stripe_client, paid, 1000)
    response = await pay(stripe_client, paid, tranche["id"])
    assert response.status_code == 409 and response.json()["code"] == "recipient_not_ready"
    assert "onboarding" in response.json()["detail"] and not double.transfers


async def test_a_lost_response_is_retried_by_the_sdk_with_the_same_key_and_pays_once(stripe_client, double):
    paid = await onboarded_grant(stripe_client, double)
    tranche = await approved(stripe_client, paid, 1000)
    double.fail_next("lost_response")
    response = await pay(stripe_client, paid, tranche["id"])
    assert response.status_code == 200 and response.json()["status"] == "paid", response.text
    assert len(double.transfer_for(tranche["id"])) == 1
    posts = transfer_posts(double)
    assert len(posts) == 2 and posts[0]["idempotency-key"] == posts[1]["idempotency-key"]


async def test_a_500_then_success_pays_once(stripe_client, double):
    paid = await onboarded_grant(stripe_client, double)
    tranche = await approved(stripe_client, paid, 1000)
    double.fail_next("500")
    response = await pay(stripe_client, paid, tranche["id"])
    assert response.json()["status"] == "paid", response.text
    assert len(double.transfer_for(tranche["id"])) == 1 and len(transfer_posts(double)) == 2


async def test_a_409_idempotency_conflict_sends_no_second_transfer_and_the_tranche_says_why(stripe_client, double):
    paid = await onboarded_grant(stripe_client, double)
    tranche = await approved(stripe_client, paid, 1000)
    for _ in range(3):  # the first call and both SDK retries meet a key in use
        double.fail_next("409")
    response = await pay(stripe_client, paid, tranche["id"])
    assert response.status_code == 200, response.text
    state = await tranche_state(stripe_client, paid, tranche["id"])
    assert state["status"] == "submitted" and not double.transfers
    assert "did not confirm" in state["failure_reason"] and "idempotency_key_in_use" in state["failure_reason"]
    again = await pay(stripe_client, paid, tranche["id"])
    assert again.status_code == 409 and again.json()["code"] == "payment_in_flight"
    assert (await worker.run_once())["done"] == 1  # later: looked up (nothing), resent with the same key
    state = await tranche_state(stripe_client, paid, tranche["id"])
    assert state["status"] == "paid" and state["failure_reason"] is None
    assert len(double.transfer_for(tranche["id"])) == 1
    assert {h["idempotency-key"] for h in transfer_posts(double)} == {f"{DEPLOYMENT}:transfer:{tranche['id']}:1"}


async def test_balance_insufficient_fails_with_stripes_reason_and_a_retry_after_top_up_pays(stripe_client, double):
    paid = await onboarded_grant(stripe_client, double)
    tranche = await approved(stripe_client, paid, 5000)
    double.set_platform_balance(4999)
    first = await pay(stripe_client, paid, tranche["id"])
    assert first.json()["status"] == "failed" and "balance_insufficient" in first.json()["failure_reason"]
    assert (await grant_detail(stripe_client, paid.world, paid.grant["id"]))["grant"]["paid"] == 0
    double.set_platform_balance(10_000)
    second = await pay(stripe_client, paid, tranche["id"])
    assert second.json()["status"] == "paid" and second.json()["attempt"] == 2
    assert [h["idempotency-key"][-2:] for h in transfer_posts(double)] == [":1", ":2"]
    assert len(double.transfer_for(tranche["id"])) == 1
    actions = [a for a, s, _ in await audit_trail(stripe_client, paid.world) if s == f"tranche:{tranche['id']}"]
    assert actions[-4:] == ["tranche.submitted", "tranche.failed", "tranche.submitted", "tranche.paid"]


async def test_past_the_idempotency_window_the_transfer_is_looked_up_before_any_resend(stripe_client, double):
    paid = await onboarded_grant(stripe_client, double)
    tranche = await approved(stripe_client, paid, 1000)
    await pay_unanswered(stripe_client, double, paid, tranche["id"])  # made at Stripe, never answered
    assert (await tranche_state(stripe_client, paid, tranche["id"]))["status"] == "submitted"
    double.expire_idempotency_keys()  # more than 24 hours later: the same key would pay AGAIN
    assert (await worker.run_once())["adopted"] == 1
    assert len(double.transfer_for(tranche["id"])) == 1 and len(transfer_posts(double)) == 3
    assert any(m == "GET" and p == "/v1/transfers" for m, p, _ in double.requests)
    assert (await tranche_state(stripe_client, paid, tranche["id"]))["status"] == "paid"


async def test_twenty_concurrent_pay_requests_make_one_transfer(stripe_client, double):
    """Invariant: one tranche, one transfer, whatever the concurrency (the claim is a conditional UPDATE)."""
    paid = await onboarded_grant(stripe_client, double)
    tranche = await approved(stripe_client, paid, 2500)
    responses = await asyncio.gather(*(pay(stripe_client, paid, tranche["id"]) for _ in range(20)))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 19, [r.text for r in responses]
    assert len(double.transfer_for(tranche["id"])) == 1 and len(transfer_posts(double)) == 1
    assert (await grant_detail(stripe_client, paid.world, paid.grant["id"]))["grant"]["paid"] == 2500
    await asyncio.gather(*(worker.run_once() for _ in range(5)))  # workers find nothing left to send
    assert len(transfer_posts(double)) == 1


async def test_the_same_webhook_ten_times_has_one_effect(stripe_client, double):
    paid = await onboarded_grant(stripe_client, double)
    tranche = await approved(stripe_client, paid, 1000)
    await pay_unanswered(stripe_client, double, paid, tranche["id"])
    [created] = double.events_of("transfer.created")
    responses = await asyncio.gather(*(deliver(stripe_client, double, created) for _ in range(10)))
    assert all(r.status_code == 200 for r in responses)
    assert sum(not r.json()["duplicate"] for r in responses) == 1
    state = await tranche_state(stripe_client, paid, tranche["id"])
    assert state["status"] == "paid" and state["orders"][0]["state"] == "done"
    assert (await grant_detail(stripe_client, paid.world, paid.grant["id"]))["grant"]["paid"] == 1000
    paid_events = [p for a, s, p in await audit_trail(stripe_client, paid.world)
                   if a == "tranche.paid" and s == f"tranche:{tranche['id']}"]
    assert len(paid_events) == 1 and paid_events[0]["confirmed_by"] == "webhook"


async def test_events_in_reverse_order_have_one_effect_each(stripe_client, double):
    """transfer.reversed arrives before transfer.created: the re-fetched transfer settles both the
    payment and the pending clawback, the late transfer.created changes nothing."""
    paid = await onboarded_grant(stripe_client, double)
    tranche = await approved(stripe_client, paid, 1000)
    await pay_unanswered(stripe_client, double, paid, tranche["id"])
    transfer = double.transfer_for(tranche["id"])[0]
    # pb's clawback order exists only once the tranche is paid; Stripe's side is planted directly.
    double.plant_reversal(transfer["id"], 1000)
    created, reversed_ = double.events_of("transfer.created")[0], double.events_of("transfer.reversed")[0]
    assert (await deliver(stripe_client, double, reversed_)).json()["duplicate"] is False
    assert (await tranche_state(stripe_client, paid, tranche["id"]))["status"] == "paid"
    assert (await deliver(stripe_client, double, created)).status_code == 200
    assert (await deliver(stripe_client, double, reversed_)).json()["duplicate"] is True
    state = await tranche_state(stripe_client, paid, tranche["id"])
    assert state["status"] == "paid" and state["reversed_amount"] == 0  # an unrequested reversal is reconciliation's
    assert len([a for a, s, _ in await audit_trail(stripe_client, paid.world) if a == "tranche.paid"]) == 1


async def test_a_bad_signature_or_a_stale_timestamp_is_400_and_nothing_is_processed(stripe_client, double):
    paid = await onboarded_grant(stripe_client, double)
    tranche = await approved(stripe_client, paid, 1000)
    await pay_unanswered(stripe_client, double, paid, tranche["id"])
    created = double.events_of("transfer.created")[0]
    payload, header = double.signed(created, "whsec_someoneelse0123456789")
    forged = await stripe_client.post("/api/payments/stripe/webhooks/platform", content=payload,
                                      headers={"Stripe-Signature": header})
    assert forged.status_code == 400 and forged.json()["code"] == "bad_signature"
    stale = await deliver(stripe_client, double, created, timestamp=int(double.now()) - 3600)
    assert stale.status_code == 400
    missing = await stripe_client.post("/api/payments/stripe/webhooks/platform", content=payload)
    assert missing.status_code == 400
    tampered_payload, good_header = double.signed(created, "whsec_platformdouble0123456789")
    tampered = await stripe_client.post("/api/payments/stripe/webhooks/platform",
                                        content=tampered_payload.replace(b'"livemode": false', b'"livemode": true'),
                                        headers={"Stripe-Signature": good_header})
    assert tampered.status_code == 400
    assert (await tranche_state(stripe_client, paid, tranche["id"]))["status"] == "submitted"


async def test_clawback_through_stripe_is_four_eyes_partial_then_refused_once_paid_out(stripe_client, double):
    paid = await onboarded_grant(stripe_client, double)
    tranche = await approved(stripe_client, paid, 3000)
    assert (await pay(stripe_client, paid, tranche["id"])).json()["status"] == "paid"
    world = paid.world
    asked = await stripe_client.post(paid.tranche_url(tranche["id"], "/reversals"),
                                     json={"reason": "part unspent", "amount": 1000}, headers=world.approver)
    assert asked.status_code == 201, asked.text
    approve = world.url(f"/reversals/{asked.json()['id']}/approve")
    assert (await stripe_client.post(approve, headers=world.approver)).status_code == 403
    done = await stripe_client.post(approve, headers=world.planner)
    assert done.status_code == 200 and done.json()["status"] == "done", done.text
    transfer = double.transfer_for(tranche["id"])[0]
    assert transfer["amount_reversed"] == 1000
    assert transfer["reversals"]["data"][0]["metadata"]["reversal_id"] == str(asked.json()["id"])
    double.pay_out(paid.account_id)  # the group's balance went to its bank
    asked = await stripe_client.post(paid.tranche_url(tranche["id"], "/reversals"),
                                     json={"reason": "abandoned"}, headers=world.approver)
    assert asked.json()["amount"] == 2000
    refused = await stripe_client.post(world.url(f"/reversals/{asked.json()['id']}/approve"), headers=world.planner)
    assert refused.status_code == 409 and refused.json()["code"] == "reversal_refused"
    assert "paid out" in refused.json()["detail"] and "Recover it outside pb" in refused.json()["detail"]
    state = await tranche_state(stripe_client, paid, tranche["id"])
    assert state["status"] == "paid" and state["reversed_amount"] == 1000
    assert (await grant_detail(stripe_client, paid.world, paid.grant["id"]))["grant"]["paid"] == 2000
    actions = [a for a, s, _ in await audit_trail(stripe_client, world) if s == f"tranche:{tranche['id']}"]
    assert actions[-3:] == ["tranche.reversal_requested", "tranche.reversal_approved", "tranche.reversal_refused"]


async def test_reconciliation_reports_each_class_and_fixes_only_the_provably_safe(stripe_client, double):
    paid = await onboarded_grant(stripe_client, double)
    tranches = [await approved(stripe_client, paid, 1000) for _ in range(5)]
    for tranche in tranches[:4]:
        assert (await pay(stripe_client, paid, tranche["id"])).json()["status"] == "paid"
    missing, differs, reversed_, fine = (double.transfer_for(t["id"])[0] for t in tranches[:4])
    del double.transfers[missing["id"]]  # (deleted by hand at Stripe, or pb recorded a wrong id)
    differs["amount"] = 999
    double.plant_reversal(reversed_["id"], 300)
    metadata = {"pb_deployment": DEPLOYMENT, "organisation_id": str(paid.world.organisation_id),
                "grant_id": str(paid.grant["id"]), "tranche_id": "999999", "attempt": "1"}
    unknown = double.plant_transfer(paid.account_id, 700, metadata)
    double.plant_transfer(paid.account_id, 50, {"note": "not pb's"})  # another app's transfer: not ours
    await pay_unanswered(stripe_client, double, paid, tranches[4]["id"])  # made at Stripe, unrecorded in pb
    response = await stripe_client.post(paid.world.url("/payments/reconcile"), headers=paid.world.planner)
    assert response.status_code == 200, response.text
    report = response.json()
    found = sorted((f["kind"], f["tranche_id"] if f["kind"] != "unknown_at_stripe" else f["transfer_id"], f["fixed"])
                   for f in report["findings"])
    assert found == sorted([
        ("missing_at_stripe", tranches[0]["id"], False), ("amount_differs", tranches[1]["id"], False),
        ("reversed_outside_pb", tranches[2]["id"], False), ("unknown_at_stripe", unknown["id"], False),
        ("settled_at_stripe", tranches[4]["id"], True),
    ])
    assert report["tranches_checked"] == 5 and report["transfers_seen"] == 5
    assert (await tranche_state(stripe_client, paid, tranches[4]["id"]))["status"] == "paid"
    assert (await tranche_state(stripe_client, paid, tranches[2]["id"]))["reversed_amount"] == 0  # not "fixed"
    audited = [p["kind"] for a, _, p in await audit_trail(stripe_client, paid.world)
               if a == "payments.reconciliation_finding"]
    assert sorted(audited) == sorted(kind for kind, _, _ in found)
    last = await stripe_client.get(paid.world.url("/payments/reconciliation"), headers=paid.world.planner)
    assert len(last.json()["findings"]) == 5
    again = await stripe_client.post(paid.world.url("/payments/reconcile"), headers=paid.world.planner)
    assert "settled_at_stripe" not in {f["kind"] for f in again.json()["findings"]}
    assert fine["id"] not in {f["transfer_id"] for f in again.json()["findings"]}
