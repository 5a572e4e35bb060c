"""Secrets kept outside the database: the JWT signing keyring and the census HMAC key.

The folder is created on first run with owner-only permissions. The keyring holds Ed25519 keys
with a ``kid`` each; the newest signs, all of them verify, so keys can be rotated
(``pb keys rotate``) without logging everyone out.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pb.core.clock import utcnow

KEYRING_FILE = "jwt-keyring.json"
CENSUS_KEY_FILE = "census.key"


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey
    public_key: Ed25519PublicKey


@dataclass(frozen=True, slots=True)
class Keyring:
    keys: tuple[SigningKey, ...]  # oldest first; the last one signs

    @property
    def current(self) -> SigningKey:
        return self.keys[-1]

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        for key in self.keys:
            if key.kid == kid:
                return key.public_key
        return None


def _ensure_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _write_private(path: Path, data: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _new_entry() -> dict[str, str]:
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {"kid": f"{utcnow():%Y%m%d}-{secrets.token_hex(4)}", "private_pem": pem}


def _parse(entries: list[dict[str, str]]) -> Keyring:
    keys = []
    for entry in entries:
        private = serialization.load_pem_private_key(entry["private_pem"].encode(), password=None)
        assert isinstance(private, Ed25519PrivateKey), "keyring entries must be Ed25519 keys"
        keys.append(SigningKey(entry["kid"], private, private.public_key()))
    return Keyring(tuple(keys))


def load_keyring(secrets_dir: Path) -> Keyring:
    """Load the keyring, creating it with one key on first run."""
    _ensure_dir(secrets_dir)
    path = secrets_dir / KEYRING_FILE
    if not path.exists():
        _write_private(path, json.dumps([_new_entry()], indent=2))
    return _parse(json.loads(path.read_text()))


def rotate_keyring(secrets_dir: Path, keep: int = 3) -> Keyring:
    """Add a new signing key; keep the last ``keep`` keys so recent tokens still verify."""
    _ensure_dir(secrets_dir)
    path = secrets_dir / KEYRING_FILE
    entries = json.loads(path.read_text()) if path.exists() else []
    entries = [*entries, _new_entry()][-keep:]
    _write_private(path, json.dumps(entries, indent=2))
    return _parse(entries)


def load_census_key(secrets_dir: Path) -> bytes:
    """The key under which census identifiers are HMAC'd; never stored in the database."""
    _ensure_dir(secrets_dir)
    path = secrets_dir / CENSUS_KEY_FILE
    if not path.exists():
        _write_private(path, secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


@lru_cache(maxsize=8)
def cached_keyring(secrets_dir: Path) -> Keyring:
    return load_keyring(secrets_dir)


CHECKPOINT_KEY_FILE = "checkpoint-key.pem"


def load_checkpoint_key(secrets_dir: Path) -> Ed25519PrivateKey:
    """The Ed25519 key that signs audit checkpoints, created on first run.

    Kept apart from the JWT keyring: token keys rotate and drop off, while a checkpoint's key must
    stay known for as long as anyone may verify the heads it signed (each checkpoint carries it).
    """
    _ensure_dir(secrets_dir)
    path = secrets_dir / CHECKPOINT_KEY_FILE
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        _write_private(path, pem)
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(private, Ed25519PrivateKey), "the checkpoint key must be an Ed25519 key"
    return private


def public_key_hex(private: Ed25519PrivateKey) -> str:
    return private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


# --- the secrets folder of this process, for services that keep per-round secrets -----------------

_bound_secrets_dir: Path | None = None
LOTTERY_DIR = "lottery"


def bind_secrets_dir(secrets_dir: Path) -> None:
    """Name the secrets folder once per process (the app and the CLI do it at start-up)."""
    global _bound_secrets_dir
    _bound_secrets_dir = Path(secrets_dir)


def bound_secrets_dir() -> Path:
    if _bound_secrets_dir is None:
        raise RuntimeError("no secrets folder is bound: call pb.core.keyring.bind_secrets_dir first")
    return _bound_secrets_dir


def store_lottery_seed(organisation_id: int, round_id: int, seed_hex: str) -> None:
    """Keep a round's lottery seed secret until the tally reveals it (only its hash is public)."""
    folder = bound_secrets_dir() / LOTTERY_DIR
    _ensure_dir(folder)
    _write_private(folder / f"org{organisation_id}-round{round_id}.seed", seed_hex)


def load_lottery_seed(organisation_id: int, round_id: int) -> str | None:
    path = bound_secrets_dir() / LOTTERY_DIR / f"org{organisation_id}-round{round_id}.seed"
    return path.read_text().strip() if path.exists() else None
