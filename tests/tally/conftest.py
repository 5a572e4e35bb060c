"""``PB_TALLY_PATH=small`` or ``=large`` runs every tally test on one engine path only
(plain Python and Fraction, or numpy and mpq; see ``pb.tally.numbers.SMALL_GROUPS``).
Unset, each electorate takes the path its size gives it, as in production."""

from __future__ import annotations

import os

import pytest

from pb.tally import numbers

_FORCED = {"small": 10**12, "large": -1}


@pytest.fixture(autouse=True)
def _engine_path(monkeypatch):
    forced = os.environ.get("PB_TALLY_PATH")
    if forced:
        monkeypatch.setattr(numbers, "SMALL_GROUPS", _FORCED[forced])
        monkeypatch.setattr(numbers, "SMALL_GROUPS_ITERATED", _FORCED[forced])
