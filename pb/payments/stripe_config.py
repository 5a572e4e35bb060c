"""Stripe secrets from the secrets folder, checked before the Stripe gateway may start.

The secret key and the two webhook signing secrets are files next to the JWT keyring, never
settings, database rows or log lines. A missing or malformed one stops start-up with a sentence
that says which file and what is wrong (without ever echoing the secret).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

SECRET_KEY_FILE = "stripe-secret-key"
WEBHOOK_SECRET_FILES = {"platform": "stripe-webhook-platform", "connect": "stripe-webhook-connect"}
ENDPOINTS = tuple(WEBHOOK_SECRET_FILES)

_KEY = re.compile(r"^(sk|rk)_(test|live)_[0-9A-Za-z]{16,247}$")
_WEBHOOK_SECRET = re.compile(r"^whsec_[0-9A-Za-z+/=]{16,}$")
MODES = ("test", "live")


class StripeConfigError(RuntimeError):
    """The Stripe gateway cannot start; the message tells the operator what to fix."""


@dataclass(frozen=True, slots=True)
class StripeSecrets:
    mode: str
    secret_key: str = field(repr=False)
    webhook_secrets: dict[str, str] = field(repr=False)


def _read(secrets_dir: Path, name: str, what: str) -> str:
    path = secrets_dir / name
    if not path.is_file():
        raise StripeConfigError(
            f"The Stripe gateway is enabled but {what} is missing: put it in {path} (one line, owner-only "
            "permissions), or set payments.stripe_enabled = false to pay through the ledger only."
        )
    return path.read_text().strip()


def load_stripe_secrets(secrets_dir: Path, mode: str) -> StripeSecrets:
    """Read and check the Stripe secrets; ``StripeConfigError`` names the first problem."""
    if mode not in MODES:
        raise StripeConfigError(f"payments.stripe_mode must be 'test' or 'live', not {mode!r}.")
    key = _read(secrets_dir, SECRET_KEY_FILE, "the Stripe secret key")
    matched = _KEY.match(key)
    if not matched:
        raise StripeConfigError(
            f"The Stripe secret key in {secrets_dir / SECRET_KEY_FILE} is malformed: it must be a secret key "
            "(sk_test_…, sk_live_…) or a restricted key (rk_test_…, rk_live_…) copied whole from the Stripe "
            "Dashboard. A publishable key (pk_…) cannot pay anyone."
        )
    if matched.group(2) != mode:
        raise StripeConfigError(
            f"The Stripe secret key is a {matched.group(2)}-mode key but payments.stripe_mode is {mode!r}: "
            "use a key of the configured mode (test and live are separate worlds at Stripe)."
        )
    webhook_secrets = {}
    for endpoint, name in WEBHOOK_SECRET_FILES.items():
        secret = _read(secrets_dir, name, f"the signing secret of the {endpoint} webhook endpoint")
        if not _WEBHOOK_SECRET.match(secret):
            raise StripeConfigError(
                f"The {endpoint} webhook signing secret in {secrets_dir / name} is malformed: it starts with "
                "whsec_ (Stripe Dashboard → Developers → Webhooks → the endpoint → Signing secret)."
            )
        webhook_secrets[endpoint] = secret
    return StripeSecrets(mode, key, webhook_secrets)
