"""Sealed boxes whose expensive half is prepared ahead, on a thread of its own.

A sealed box (libsodium's ``crypto_box_seal``) makes a fresh X25519 key pair and agrees a key with
the recipient's public key for every message: about 45 µs, an eighth of a cast's CPU, spent on the
event loop's thread. Neither step depends on the message, only on the recipient's key, so a
background thread prepares them ahead (libsodium runs without the GIL, so on the other core) and a
cast only encrypts (~2 µs).

The construction and the bytes are libsodium's sealed box, unchanged: ``ephemeral public key ||
crypto_box(message, nonce=BLAKE2b-192(ephemeral pk || recipient pk))``; ``crypto_box_seal_open``
(``SealedBox.decrypt``) opens it (tests/unit/test_sealing.py checks both ways). Every prepared pair
is used for one message and dropped, exactly as a sealed box uses its ephemeral key once. The
ephemeral secret key is discarded as soon as the agreement is made; only the agreed keys wait in
memory, at most ``STOCK`` of them per recipient, none of them for a message already sealed.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque

from nacl.bindings import crypto_box_afternm, crypto_box_beforenm, crypto_box_keypair

STOCK = 256  # prepared pairs kept per recipient: ~0.1 s of casting at peak, 16 KiB
IDLE_SECONDS = 60.0  # a preparing thread with nothing to do for this long ends (restarted on demand)


def _prepare(public_key: bytes) -> tuple[bytes, bytes]:
    """A fresh ephemeral public key and the key it agrees with ``public_key`` (secret key dropped)."""
    ephemeral_public, ephemeral_secret = crypto_box_keypair()
    return ephemeral_public, crypto_box_beforenm(public_key, ephemeral_secret)


def seal_with(public_key: bytes, ephemeral_public: bytes, agreed_key: bytes, message: bytes) -> bytes:
    """The sealed box of ``message`` with one prepared pair (use each pair once)."""
    nonce = hashlib.blake2b(ephemeral_public + public_key, digest_size=24).digest()
    return ephemeral_public + crypto_box_afternm(message, nonce, agreed_key)


class PreparedSealer:
    """Seals to one public key, taking prepared pairs from a stock a daemon thread keeps filled.

    The stock is a ``deque`` (appends and pops are atomic), so the event loop never waits for the
    thread: with the stock empty (a burst larger than it, or the first seal) it prepares the pair
    itself, as ``crypto_box_seal`` would.
    """

    def __init__(self, public_key: bytes, stock: int = STOCK):
        self.public_key = bytes(public_key)
        self.stock = stock
        self._ready: deque[tuple[bytes, bytes]] = deque()
        self._wanted = threading.Event()
        self._lock = threading.Lock()  # guards starting the thread
        self._thread: threading.Thread | None = None

    def seal(self, message: bytes) -> bytes:
        try:
            ephemeral_public, agreed_key = self._ready.popleft()
        except IndexError:
            ephemeral_public, agreed_key = _prepare(self.public_key)
        if len(self._ready) < self.stock // 2:
            self._ask_for_more()
        return seal_with(self.public_key, ephemeral_public, agreed_key, message)

    def prepared(self) -> int:
        """Pairs waiting (tests and diagnostics)."""
        return len(self._ready)

    def _ask_for_more(self) -> None:
        self._wanted.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._fill, name="pb-sealing", daemon=True)
                self._thread.start()

    def _fill(self) -> None:
        while self._wanted.wait(IDLE_SECONDS):
            self._wanted.clear()
            while len(self._ready) < self.stock:
                self._ready.append(_prepare(self.public_key))
