"""JSON API for payments: pay, claw back (four eyes), the gateway, recipients, payment state,
reconciliation, and the two Stripe webhook endpoints (public, verified by signature)."""

from __future__ import annotations

import json

import msgspec
from litestar import Request, Response, get, post, put
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from pb.accounts.domain import AUDITOR, CITIZEN, OFFICIAL, REVIEWER, Actor
from pb.accounts.guards import requires_role
from pb.grants.api import GRANT, as_out
from pb.grants.schemas import TrancheOut
from pb.payments import recipients, reconcile, repo, service, webhooks
from pb.payments.gateway import stripe_gateway
from pb.payments.schemas import (
    ChooseGateway, FindingOut, GatewayOut, OnboardingLinkOut, PayTranche, PaymentStateOut, ReconciliationOut, RecipientOut,
    RequestReversal, ReversalOut,
)

ORG = "/api/orgs/{org_id:int}"
TRANCHE = GRANT + "/tranches/{tranche_id:int}"


@post(TRANCHE + "/pay", guards=[requires_role(OFFICIAL)], tags=["payments"], status_code=200,
      summary="Pay an approved tranche (ledger: record the bank reference; Stripe: send a transfer); "
              "retries a failed one with a new attempt")
async def pay_tranche(actor: NamedDependency[Actor], grant_id: FromPath[int], tranche_id: FromPath[int],
                      data: JSONBody[PayTranche]) -> TrancheOut:
    return as_out(await service.pay_tranche(actor, grant_id, tranche_id, data.reference), TrancheOut)


@post(TRANCHE + "/reversals", guards=[requires_role(OFFICIAL)], tags=["payments"], status_code=201,
      summary="Ask to claw back (part of) a paid tranche; another official approves it")
async def request_reversal(actor: NamedDependency[Actor], grant_id: FromPath[int], tranche_id: FromPath[int],
                           data: JSONBody[RequestReversal]) -> ReversalOut:
    return as_out(await service.request_reversal(actor, grant_id, tranche_id, data.amount, data.reason,
                                                 data.reference), ReversalOut)


@post(ORG + "/reversals/{reversal_id:int}/approve", guards=[requires_role(OFFICIAL)], tags=["payments"],
      status_code=200, summary="Approve a clawback (four eyes: not the official who asked for it)")
async def approve_reversal(actor: NamedDependency[Actor], reversal_id: FromPath[int]) -> ReversalOut:
    return as_out(await service.approve_reversal(actor, reversal_id), ReversalOut)


@get(ORG + "/payments/gateway", guards=[requires_role(OFFICIAL, AUDITOR)], tags=["payments"],
     summary="The gateway new payments of this organisation go through")
async def show_gateway(actor: NamedDependency[Actor]) -> GatewayOut:
    return GatewayOut(await service.organisation_gateway(actor.organisation_id), stripe_gateway() is not None)


@put(ORG + "/payments/gateway", guards=[requires_role(OFFICIAL)], tags=["payments"], status_code=200,
     summary="Switch the organisation's gateway (ledger or Stripe, if configured)")
async def choose_gateway(actor: NamedDependency[Actor], data: JSONBody[ChooseGateway]) -> GatewayOut:
    return GatewayOut(await service.choose_gateway(actor, data.gateway), stripe_gateway() is not None)


@post(GRANT + "/recipient/onboarding-link", guards=[requires_role(OFFICIAL, CITIZEN, REVIEWER)], tags=["payments"],
      status_code=200, summary="A single-use Stripe-hosted onboarding link for the grantee group")
async def onboarding_link(request: Request, actor: NamedDependency[Actor], grant_id: FromPath[int]) -> OnboardingLinkOut:
    recipient, url, expires_at = await recipients.onboarding_link(actor, grant_id, request.app.state.settings.public_url)
    return OnboardingLinkOut(url, expires_at, as_out(recipient, RecipientOut))


@get(GRANT + "/payments", guards=[requires_role(OFFICIAL, AUDITOR)], tags=["payments"],
     summary="Payment state of a grant: gateway, recipient, tranches, outbox orders, clawbacks")
async def payment_state(actor: NamedDependency[Actor], grant_id: FromPath[int]) -> PaymentStateOut:
    return msgspec.convert(await service.payment_state(actor, grant_id), PaymentStateOut, from_attributes=True)


@post(ORG + "/payments/reconcile", guards=[requires_role(OFFICIAL)], tags=["payments"], status_code=200,
      summary="Compare every Stripe tranche with Stripe's transfers now; each finding is audited")
async def run_reconciliation(actor: NamedDependency[Actor]) -> ReconciliationOut:
    service.require_official(actor)
    report = await reconcile.reconcile(actor.organisation_id)
    return msgspec.convert(report.as_dict(), ReconciliationOut)


@get(ORG + "/payments/reconciliation", guards=[requires_role(OFFICIAL, AUDITOR)], tags=["payments"],
     summary="The latest reconciliation report")
async def last_reconciliation(actor: NamedDependency[Actor]) -> ReconciliationOut:
    run = await repo.last_run(actor.organisation_id)
    if run is None:
        return ReconciliationOut(actor.organisation_id, 0, 0, [])
    return ReconciliationOut(actor.organisation_id, run["tranches_checked"], run["transfers_seen"],
                             msgspec.convert(json.loads(run["findings"]), list[FindingOut]), started_at=run["started_at"])


@post("/api/payments/stripe/webhooks/{endpoint:str}", opt={"public": True}, tags=["payments"], status_code=200,
      summary="Stripe webhook endpoint (platform or connect): signature checked on the raw body")
async def stripe_webhook(request: Request, endpoint: FromPath[str]) -> Response:
    event_id, new = await webhooks.receive(endpoint, await request.body(), request.headers.get("stripe-signature"))
    return Response({"received": event_id, "duplicate": not new}, status_code=200,
                    background=BackgroundTask(webhooks.process_event, event_id) if new else None)


ROUTES = [pay_tranche, request_reversal, approve_reversal, show_gateway, choose_gateway, onboarding_link,
          payment_state, run_reconciliation, last_reconciliation, stripe_webhook]
