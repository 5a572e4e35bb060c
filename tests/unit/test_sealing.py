"""Sealed boxes with prepared ephemeral keys (``pb.core.sealing``) are libsodium's sealed boxes.

The cast seals every ballot with ``PreparedSealer``; the box is opened at close by libsodium's
``crypto_box_seal_open`` (``SealedBox.decrypt``). These tests pin that the two agree, that no
ephemeral key is ever used twice, and that the background thread keeps the stock filled.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox

from pb.core.sealing import PreparedSealer

RECIPIENT = PrivateKey.generate()
SEALER = PreparedSealer(RECIPIENT.public_key.encode(), stock=8)


@settings(max_examples=200, deadline=None)
@given(message=st.binary(max_size=2048))
def test_every_prepared_seal_opens_with_libsodiums_sealed_box_open_to_the_same_message(message):
    """Invariant: SealedBox(recipient's private key).decrypt(seal(m)) == m, and the box has the
    sealed-box size (32-byte ephemeral key, 16-byte MAC)."""
    sealed = SEALER.seal(message)
    assert len(sealed) == len(message) + 48 == len(SealedBox(RECIPIENT.public_key).encrypt(message))
    assert SealedBox(RECIPIENT).decrypt(sealed) == message


def test_a_seal_with_the_stock_empty_is_prepared_on_the_spot_and_still_opens():
    sealer = PreparedSealer(RECIPIENT.public_key.encode(), stock=0)  # never anything waiting
    assert sealer.prepared() == 0
    assert SealedBox(RECIPIENT).decrypt(sealer.seal(b"ballot")) == b"ballot"


def test_no_ephemeral_key_is_used_twice():
    sealer = PreparedSealer(RECIPIENT.public_key.encode(), stock=16)
    boxes = [sealer.seal(b"the same ballot") for _ in range(200)]  # stock drained and refilled many times
    assert len({box[:32] for box in boxes}) == 200
    assert len(set(boxes)) == 200


def test_another_key_cannot_open_a_prepared_seal():
    with pytest.raises(CryptoError):
        SealedBox(PrivateKey.generate()).decrypt(SEALER.seal(b"ballot"))


def test_the_background_thread_fills_the_stock_after_a_seal():
    sealer = PreparedSealer(RECIPIENT.public_key.encode(), stock=32)
    sealer.seal(b"first")  # prepared on the spot; asks the thread for more
    deadline = time.monotonic() + 10
    while sealer.prepared() < 32 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sealer.prepared() == 32
    sealer.seal(b"second")
    assert sealer.prepared() >= 31  # taken from the stock, not prepared on the spot
