"""Canonical JSON and hashing: the same value always gives the same bytes and the same hash.

Used for the audit chain, the frozen round configuration and ballot receipts, so that anyone can
recompute a hash from published data.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_hex(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()
