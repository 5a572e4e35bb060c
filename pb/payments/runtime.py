"""Starting the Stripe gateway from settings: check the secrets, build the SDK client, register.

Called by ``create_app`` (the secrets are checked before the app exists, so ``pb serve`` refuses to
start with a missing or malformed key) and by the ``pb payments`` commands.
"""

from __future__ import annotations

import asyncio

import stripe

from pb.payments import gateway as gateways
from pb.payments.stripe_config import StripeSecrets, load_stripe_secrets
from pb.payments.stripe_gateway import StripeGateway, make_client
from pb.settings import Settings


def check(settings: Settings) -> StripeSecrets | None:
    """The Stripe secrets when the gateway is enabled (``StripeConfigError`` says what is wrong)."""
    if not settings.stripe_enabled:
        return None
    return load_stripe_secrets(settings.secrets_dir, settings.stripe_mode)


def build_gateway(settings: Settings, secrets: StripeSecrets,
                  http_client: stripe.HTTPClient | None = None) -> StripeGateway:
    """One gateway (and SDK client) per event loop: call from the loop that will use it."""
    client = make_client(secrets, settings.stripe_api_base, http_client)
    gateway = StripeGateway(client, secrets, settings.deployment_id, settings.stripe_country)
    gateway.send_inline = settings.payments_send_inline
    gateway.lease_seconds = settings.payments_lease_seconds
    return gateway


def start(settings: Settings, secrets: StripeSecrets | None, http_client: stripe.HTTPClient | None = None) -> None:
    if secrets is not None:
        gateways.register(build_gateway(settings, secrets, http_client))


def stop() -> None:
    gateways.unregister(gateways.STRIPE)


_worker: asyncio.Task | None = None


def start_worker(settings: Settings) -> None:
    """The background worker of ``pb serve`` (payments.worker_seconds > 0 and Stripe configured)."""
    global _worker
    if settings.payments_worker_seconds > 0 and gateways.stripe_gateway() is not None:
        from pb.payments.worker import run_forever

        _worker = asyncio.create_task(run_forever(settings.payments_worker_seconds,
                                                  settings.payments_reconcile_minutes))


async def stop_worker() -> None:
    global _worker
    if _worker is not None:
        _worker.cancel()
        try:
            await _worker
        except asyncio.CancelledError:
            pass
        _worker = None
