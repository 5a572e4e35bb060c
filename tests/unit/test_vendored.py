"""Vendored third-party files are exactly the pinned versions recorded in VENDORED.md."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[2] / "frontend" / "static" / "vendor"


def test_each_vendored_file_matches_its_recorded_sha256():
    rows = re.findall(r"^\| (\S+) \| [^|]+ \| [0-9a-f]{40} \| ([0-9a-f]{64}) \|$", (VENDOR / "VENDORED.md").read_text(),
                      re.MULTILINE)
    assert len(rows) == 2
    for name, digest in rows:
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_the_pages_load_the_pinned_htmx():
    from pb.web.templating import HTMX

    assert (VENDOR.parent.parent / HTMX.removeprefix("/")).exists()
    assert "2.0." in HTMX
