"""Where the tally tests find real Pabulib files.

``DATA``: the small curated set committed under tests/tally/data/pabulib (see its README), so the
tests pass in a clone with nothing beside it. The full corpus is optional: tests marked ``corpus``
get its folder from the ``pabulib_corpus`` fixture (PB_PABULIB_CORPUS, tests/conftest.py) and are
otherwise deselected and counted in the pytest summary.
"""

from __future__ import annotations

import csv
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "pabulib"


def read_index(folder: Path) -> dict[str, dict[str, str]]:
    """``index.csv`` of a Pabulib folder: one row per file (vote type, counts, budget, sha256)."""
    with open(folder / "index.csv", newline="", encoding="utf-8") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}
