"""Shared steps for Stripe payment tests: the app with the Stripe gateway talking to the double
in-process, a grantee group onboarded through signed account events, webhook delivery."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

import httpx
import pytest

from pb.payments import gateway as gateways
from pb.payments import runtime
from pb.payments.stripe_config import SECRET_KEY_FILE, WEBHOOK_SECRET_FILES
from tests.steps_grants import GrantWorld, approved_tranche, grant_world, granted
from tests.stripe_double import API_KEY, CONNECT_SECRET, PLATFORM_SECRET, StripeDouble, fast_sdk_retries

DEPLOYMENT = "pb-test"


def write_stripe_secrets(folder: Path, key: str = API_KEY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SECRET_KEY_FILE).write_text(key + "\n")
    (folder / WEBHOOK_SECRET_FILES["platform"]).write_text(PLATFORM_SECRET)
    (folder / WEBHOOK_SECRET_FILES["connect"]).write_text(CONNECT_SECRET)
    return folder


@pytest.fixture
def double() -> StripeDouble:
    fast_sdk_retries()
    return StripeDouble()


@pytest.fixture
def stripe_settings(settings, secrets_dir):
    write_stripe_secrets(secrets_dir)
    return settings.with_overrides(stripe_enabled=True, deployment_id=DEPLOYMENT, payments_lease_seconds=0)


@pytest.fixture
async def stripe_client(stripe_settings, double) -> AsyncIterator[httpx.AsyncClient]:
    """The real app (Stripe gateway enabled) whose SDK client talks to the double in-process."""
    from pb.app import create_app

    app = create_app(stripe_settings)
    async with app.lifespan():
        runtime.start(stripe_settings, runtime.check(stripe_settings), http_client=double.http_client())
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                yield http
        finally:
            runtime.stop()


def gateway():
    return gateways.stripe_gateway()


async def deliver(client: httpx.AsyncClient, double: StripeDouble, event: dict, endpoint: str = "platform",
                  timestamp: int | None = None) -> httpx.Response:
    secret = PLATFORM_SECRET if endpoint == "platform" else CONNECT_SECRET
    payload, header = double.signed(event, secret, timestamp)
    return await client.post(f"/api/payments/stripe/webhooks/{endpoint}", content=payload,
                             headers={"Stripe-Signature": header, "Content-Type": "application/json"})


@dataclass
class StripeGrant:
    world: GrantWorld
    grant: dict
    account_id: str

    def tranche_url(self, tranche_id: int, path: str = "") -> str:
        return self.world.url(f"/grants/{self.grant['id']}/tranches/{tranche_id}{path}")


async def onboarded_grant(client: httpx.AsyncClient, double: StripeDouble) -> StripeGrant:
    """A grant whose organisation pays through Stripe and whose group finished onboarding (the
    readiness arriving as a signed Connect event, re-fetched from the double)."""
    world = await grant_world(client)
    grant = await granted(client, world, world.selected[0])
    response = await client.put(world.url("/payments/gateway"), json={"gateway": "stripe"}, headers=world.planner)
    assert response.status_code == 200, response.text
    link = await client.post(world.url(f"/grants/{grant['id']}/recipient/onboarding-link"),
                             headers=world.selected[0].author_headers)
    assert link.status_code == 200, link.text
    account_id = link.json()["recipient"]["account_id"]
    assert link.json()["recipient"]["status"] == "onboarding"
    double.complete_onboarding(account_id)
    response = await deliver(client, double, double.events_of("v2.core.account")[-1], "connect")
    assert response.status_code == 200, response.text
    return StripeGrant(world, grant, account_id)


async def approved(client: httpx.AsyncClient, paid: StripeGrant, amount: int) -> dict:
    return await approved_tranche(client, paid.world, paid.grant["id"], amount)


async def pay(client: httpx.AsyncClient, paid: StripeGrant, tranche_id: int) -> httpx.Response:
    return await client.post(paid.tranche_url(tranche_id, "/pay"), json={}, headers=paid.world.approver)


async def pay_unanswered(client: httpx.AsyncClient, double: StripeDouble, paid: StripeGrant,
                         tranche_id: int) -> httpx.Response:
    """Pay, while Stripe makes the transfer but no answer ever comes back (first call and both SDK
    retries lost): the tranche stays submitted, the outcome unknown to pb."""
    for _ in range(3):
        double.fail_next("lost_response")
    return await pay(client, paid, tranche_id)


async def tranche_state(client: httpx.AsyncClient, paid: StripeGrant, tranche_id: int) -> dict:
    response = await client.get(paid.world.url(f"/grants/{paid.grant['id']}/payments"), headers=paid.world.planner)
    assert response.status_code == 200, response.text
    state = response.json()
    return {**next(t for t in state["tranches"] if t["id"] == tranche_id),
            "orders": [o for o in state["orders"] if o["tranche_id"] == tranche_id]}


def transfer_posts(double: StripeDouble) -> list[dict]:
    return [headers for method, path, headers in double.requests if method == "POST" and path == "/v1/transfers"]
