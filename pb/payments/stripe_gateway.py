"""The Stripe Connect adapter: every call pb makes to Stripe, through the official SDK.

Rules kept here, once:
- the idempotency key always goes in the request OPTIONS (in params 16.x sends it as a form field
  and invents a random key: research note §2.4);
- the SDK's network retries are on (``StripeClient`` makes none by default) and reuse the key;
- an answer is classified as done / refused (definitive, nothing happened) / unknown (may have
  reached Stripe: look it up before any resend), see ``classify``;
- objects are read back as plain values (``StripeObject`` is no dict since v15).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, AsyncIterator

import stripe

from pb.payments.domain import DONE, REFUSED, UNKNOWN, GatewayAnswer, recipient_status
from pb.payments.stripe_config import StripeSecrets

NETWORK_RETRIES = 2
_ACCOUNT_INCLUDE = ["configuration.recipient", "requirements"]


@dataclass(frozen=True, slots=True)
class TransferView:
    id: str
    amount: int
    amount_reversed: int
    currency: str
    destination: str | None
    metadata: dict[str, str]
    reversal_ids_by_pb_id: dict[str, str]  # metadata.reversal_id -> Stripe reversal id

    @property
    def tranche_id(self) -> int | None:
        value = self.metadata.get("tranche_id", "")
        return int(value) if value.isdigit() else None


@dataclass(frozen=True, slots=True)
class AccountView:
    id: str
    status: str  # pb's recipient status
    detail: str


def make_client(secrets: StripeSecrets, api_base: str = "", http_client: stripe.HTTPClient | None = None
                ) -> stripe.StripeClient:
    """One SDK client per event loop (the async HTTP pool belongs to its loop)."""
    options: dict[str, Any] = {"max_network_retries": NETWORK_RETRIES}
    if api_base:
        options["base_addresses"] = {"api": api_base}
    if http_client is not None:
        options["http_client"] = http_client
    return stripe.StripeClient(secrets.secret_key, **options)


def classify(error: stripe.StripeError) -> GatewayAnswer:
    """Definitive refusals (4xx other than 409/429) vs answers that leave the outcome unknown."""
    request_id = getattr(error, "request_id", None)
    status = getattr(error, "http_status", None)
    body = getattr(error, "json_body", None) or {}
    code = getattr(error, "code", None) or (body.get("error") or {}).get("code") or ""
    message = getattr(error, "user_message", None) or str(error) or type(error).__name__
    if isinstance(error, stripe.IdempotencyError) or status in (409, 429) or status is None or status >= 500:
        why = f"Stripe did not confirm the outcome ({type(error).__name__}{', ' + code if code else ''}: {message})"
        return GatewayAnswer(UNKNOWN, request_id=request_id, reason=why)
    return GatewayAnswer(REFUSED, request_id=request_id, reason=f"{code or 'refused'}: {message}")


def _as_dict(obj: Any) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def transfer_view(obj: Any) -> TransferView:
    data = _as_dict(obj)
    reversals = (data.get("reversals") or {}).get("data") or []
    return TransferView(
        id=data["id"], amount=int(data["amount"]), amount_reversed=int(data.get("amount_reversed") or 0),
        currency=data.get("currency", ""), destination=data.get("destination"),
        metadata={k: str(v) for k, v in (data.get("metadata") or {}).items()},
        reversal_ids_by_pb_id={str((r.get("metadata") or {}).get("reversal_id")): r["id"] for r in reversals
                               if (r.get("metadata") or {}).get("reversal_id")},
    )


def account_view(obj: Any) -> AccountView:
    data = _as_dict(obj)
    capability = ((((data.get("configuration") or {}).get("recipient") or {}).get("capabilities") or {})
                  .get("stripe_balance") or {}).get("stripe_transfers") or {}
    details = ", ".join(d.get("code", "") for d in capability.get("status_details") or [])
    return AccountView(data["id"], recipient_status(capability.get("status")), details)


def _request_id(obj: Any) -> str | None:
    response = getattr(obj, "last_response", None)
    return getattr(response, "request_id", None)


class StripeGateway:
    """The ``stripe`` gateway: Connect recipients, transfers, reversals, webhooks."""

    name = "stripe"
    needs_reference = False
    send_inline = True  # send right after the official's request (the worker is the backstop)
    lease_seconds = 120

    def __init__(self, client: stripe.StripeClient, secrets: StripeSecrets, deployment_id: str, country: str):
        self.client = client
        self.secrets = secrets
        self.deployment_id = deployment_id
        self.country = country

    # --- recipients -------------------------------------------------------------------------------

    async def create_recipient(self, key: str, display_name: str, metadata: dict[str, str]) -> AccountView:
        """A connected account that can only RECEIVE transfers (Accounts v2, recipient configuration)."""
        account = await self.client.v2.core.accounts.create_async({
            "display_name": display_name,
            "dashboard": "express",
            "identity": {"country": self.country.lower()},
            "configuration": {"recipient": {"capabilities": {"stripe_balance": {"stripe_transfers": {
                "requested": True}}}}},
            "defaults": {"responsibilities": {"fees_collector": "application", "losses_collector": "application"}},
            "include": _ACCOUNT_INCLUDE,
            "metadata": metadata,
        }, {"idempotency_key": key})
        return account_view(account)

    async def onboarding_link(self, account_id: str, refresh_url: str, return_url: str) -> tuple[str, str]:
        """A single-use Stripe-hosted onboarding link and when it expires."""
        link = await self.client.v2.core.account_links.create_async({
            "account": account_id,
            "use_case": {"type": "account_onboarding", "account_onboarding": {
                "refresh_url": refresh_url, "return_url": return_url}},
        })
        return link.url, str(link.expires_at)

    async def account(self, account_id: str) -> AccountView:
        return account_view(await self.client.v2.core.accounts.retrieve_async(
            account_id, {"include": _ACCOUNT_INCLUDE}))

    # --- transfers and reversals ------------------------------------------------------------------

    async def send_transfer(self, *, key: str, amount: int, currency: str, destination: str, group: str,
                            metadata: dict[str, str], description: str) -> GatewayAnswer:
        try:
            transfer = await self.client.v1.transfers.create_async({
                "amount": amount, "currency": currency.lower(), "destination": destination,
                "transfer_group": group, "metadata": metadata, "description": description,
            }, {"idempotency_key": key})
        except stripe.StripeError as error:
            return classify(error)
        return GatewayAnswer(DONE, transfer.id, _request_id(transfer))

    async def find_transfer(self, group: str, tranche_id: int) -> TransferView | None:
        """The transfer Stripe holds for a tranche, looked up by transfer group and metadata."""
        page = await self.client.v1.transfers.list_async({"transfer_group": group, "limit": 100})
        async for transfer in page.auto_paging_iter():
            view = transfer_view(transfer)
            if view.tranche_id == tranche_id:
                return view
        return None

    async def transfer(self, transfer_id: str) -> TransferView | None:
        try:
            return transfer_view(await self.client.v1.transfers.retrieve_async(transfer_id))
        except stripe.InvalidRequestError as error:
            if getattr(error, "http_status", None) == 404:
                return None
            raise

    async def all_transfers(self) -> AsyncIterator[TransferView]:
        """Every transfer of the platform, newest first, 100 per page."""
        page = await self.client.v1.transfers.list_async({"limit": 100})
        async for transfer in page.auto_paging_iter():
            yield transfer_view(transfer)

    async def send_reversal(self, *, key: str, transfer_id: str, amount: int, metadata: dict[str, str]
                            ) -> GatewayAnswer:
        try:
            reversal = await self.client.v1.transfers.reversals.create_async(
                transfer_id, {"amount": amount, "metadata": metadata}, {"idempotency_key": key})
        except stripe.StripeError as error:
            return classify(error)
        return GatewayAnswer(DONE, reversal.id, _request_id(reversal))

    # --- webhooks ---------------------------------------------------------------------------------

    def verify(self, endpoint: str, payload: bytes, signature: str | None) -> None:
        """Raises ``stripe.SignatureVerificationError`` unless the raw body carries a fresh signature."""
        stripe.WebhookSignature.verify_header(payload.decode("utf-8", "replace"), signature or "",
                                              self.secrets.webhook_secrets[endpoint], stripe.Webhook.DEFAULT_TOLERANCE)
