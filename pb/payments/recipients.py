"""Grantee groups as Stripe recipients: create the connected account once, hand out onboarding links.

The account is created with a deterministic idempotency key (organisation + grantee), stored under
UNIQUE(organisation, grantee). Its readiness is set only by account events (``webhooks``).
"""

from __future__ import annotations

from pb.accounts.domain import Actor
from pb.audit import service as audit
from pb.core.errors import Forbidden
from pb.db import write_transaction
from pb.grants.service import grant_or_404
from pb.payments import domain, repo, service
from pb.payments.repo import RecipientRow


async def onboarding_link(actor: Actor, grant_id: int, public_url: str) -> tuple[RecipientRow, str, str]:
    """(recipient, single-use Stripe-hosted link, its expiry) for the grant's group; officials and
    the grantee may ask. A new call after expiry simply mints a new link."""
    grant = await grant_or_404(actor, grant_id)
    if not actor.has("official") and actor.user_id != grant.grantee_user_id:
        raise Forbidden("Only officials and the grantee can open the payment onboarding.", code="not_grantee")
    gateway = service.stripe_or_conflict()
    recipient = await repo.recipient(actor.organisation_id, grant.grantee_user_id)
    if recipient is None:
        key = domain.stripe_key(gateway.deployment_id, "account", actor.organisation_id, grant.grantee_user_id)
        account = await gateway.create_recipient(key, f"pb grantee {grant.grantee_user_id}", {
            "pb_deployment": gateway.deployment_id, "organisation_id": str(actor.organisation_id),
            "grantee_user_id": str(grant.grantee_user_id)})
        async with write_transaction():
            if await repo.recipient(actor.organisation_id, grant.grantee_user_id) is None:
                await repo.insert_recipient(actor.organisation_id, grant.grantee_user_id, account.id,
                                            account.status, account.detail)
                await audit.record(actor.organisation_id, actor.pseudonym, "payments.recipient_created",
                                   f"grant:{grant_id}", {"grantee": grant.grantee_user_id, "account": account.id})
        recipient = await repo.recipient(actor.organisation_id, grant.grantee_user_id)
    base = public_url.rstrip("/")
    url, expires_at = await gateway.onboarding_link(
        recipient.account_id,
        refresh_url=f"{base}/api/orgs/{actor.organisation_id}/grants/{grant_id}/recipient/onboarding-link",
        return_url=f"{base}/grants/{grant_id}")
    return recipient, url, expires_at


async def recipient_of(organisation_id: int, grantee_user_id: int) -> RecipientRow | None:
    """What the grant shows about its recipient (the grants context asks here)."""
    return await repo.recipient(organisation_id, grantee_user_id)
