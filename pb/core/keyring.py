"""Secrets kept outside the database: the JWT signing keyring, the census HMAC key and the
per-round ballot-box keys (see docs/ballot-secrecy.md).

The folder is created on first run with owner-only permissions. The keyring holds Ed25519 keys
with a ``kid`` each; the newest signs, all of them verify, so keys can be rotated
(``pb keys rotate``) without logging everyone out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.public import PrivateKey, PublicKey, SealedBox

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


# --- per-round ballot-box keys ------------------------------------------------------------------

ROUND_KEYS_DIR = "round-keys"


@dataclass(frozen=True, slots=True)
class RoundKeys:
    """The secrets of one round's ballot box, kept outside the database.

    ``public_key``/``private_key``: an X25519 pair; ballots are sealed (libsodium sealed box) to the
    public half while voting runs and opened with the private half at close. ``tag_key``: the HMAC
    key under which receipts are stored while voting runs, so the database never holds a receipt in
    clear before the box is opened. Both are destroyed once the ballots are opened.
    """

    round_id: int
    public_key: bytes
    private_key: bytes
    tag_key: bytes

    def seal(self, plaintext: bytes) -> bytes:
        return SealedBox(PublicKey(self.public_key)).encrypt(plaintext)

    def unseal(self, ciphertext: bytes) -> bytes:
        return SealedBox(PrivateKey(self.private_key)).decrypt(ciphertext)

    def receipt_tag(self, receipt: str) -> str:
        return hmac.new(self.tag_key, receipt.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class SealingKeys:
    """What casting needs of a round's keys: seal to the public key and tag the receipt. Without the
    private key, so what a worker keeps in memory between casts can open nothing."""

    round_id: int
    box: SealedBox  # sealed to the round's public key (built once: PublicKey parsing is not free)
    tag_key: bytes
    file_version: tuple[int, int, int]  # (inode, mtime_ns, size) of the key file these came from

    def seal(self, plaintext: bytes) -> bytes:
        return self.box.encrypt(plaintext)

    def receipt_tag(self, receipt: str) -> str:
        return hmac.new(self.tag_key, receipt.encode(), hashlib.sha256).hexdigest()


def _key_file_name(round_id: int) -> str:
    return f"round-{int(round_id)}.json"


class RoundKeyStore:
    """Round keys as one owner-only file per round in the secrets folder.

    Files are written to a temporary name, fsynced and renamed into place, so every worker sharing
    the folder reads either no file or a whole one. Only the sealing half (``SealingKeys``: public
    key and tag key, never the private key) is kept in memory, for casting, and it is used only
    after an ``os.stat`` of the file shows the same file (inode, mtime, size): once ``destroy`` has
    run (or ``create`` replaced the file), no worker seals or tags anything with the old keys, and
    no worker can open anything at all without reading the file.
    """

    def __init__(self, secrets_dir: Path):
        self.folder = Path(secrets_dir) / ROUND_KEYS_DIR
        self._folder_text = str(self.folder)
        self._sealing: dict[int, SealingKeys] = {}

    def _path(self, round_id: int) -> Path:
        return self.folder / _key_file_name(round_id)

    def create(self, round_id: int) -> RoundKeys:
        """Fresh keys for a round that opens voting (replacing any stale file of a reset database)."""
        _ensure_dir(self.folder)
        private = PrivateKey.generate()
        keys = RoundKeys(int(round_id), bytes(private.public_key), bytes(private), secrets.token_bytes(32))
        path = self._path(round_id)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"round_id": keys.round_id, "public_key": keys.public_key.hex(),
                       "private_key": keys.private_key.hex(), "tag_key": keys.tag_key.hex()}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(self.folder)
        self._sealing.pop(int(round_id), None)
        return keys

    def load(self, round_id: int) -> RoundKeys | None:
        try:
            data = json.loads(self._path(round_id).read_text())
        except FileNotFoundError:
            return None
        return RoundKeys(int(data["round_id"]), bytes.fromhex(data["public_key"]),
                         bytes.fromhex(data["private_key"]), bytes.fromhex(data["tag_key"]))

    def sealing_keys(self, round_id: int) -> SealingKeys | None:
        """The round's sealing half, from memory while its file is unchanged (one ``stat`` a cast)."""
        try:
            stat = os.stat(os.path.join(self._folder_text, _key_file_name(round_id)))  # _path, without pathlib
        except FileNotFoundError:
            self._sealing.pop(int(round_id), None)
            return None
        version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        cached = self._sealing.get(int(round_id))
        if cached is not None and cached.file_version == version:
            return cached
        keys = self.load(round_id)
        if keys is None:
            return None
        sealing = SealingKeys(keys.round_id, SealedBox(PublicKey(keys.public_key)), keys.tag_key, version)
        if len(self._sealing) >= 256:  # rounds voting at once in one deployment: few
            self._sealing.clear()
        self._sealing[int(round_id)] = sealing
        return sealing

    def exists(self, round_id: int) -> bool:
        return self._path(round_id).exists()

    def round_ids(self) -> list[int]:
        """Rounds that still have keys (voting open, or an opening not finished)."""
        if not self.folder.exists():
            return []
        return sorted(int(p.stem.removeprefix("round-")) for p in self.folder.glob("round-*.json"))

    def destroy(self, round_id: int) -> bool:
        """Overwrite the key file with zeros, then unlink it (crypto-shredding the round's box).

        The overwrite is best effort: journaling filesystems and SSDs may keep old blocks, which is
        why the ballots' ciphertexts are also removed from the database before this runs.
        """
        self._sealing.pop(int(round_id), None)
        path = self._path(round_id)
        try:
            size = path.stat().st_size
            with open(path, "r+b") as handle:
                handle.write(b"\0" * size)
                handle.flush()
                os.fsync(handle.fileno())
            path.unlink()
        except FileNotFoundError:
            return False
        _fsync_dir(self.folder)
        return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
