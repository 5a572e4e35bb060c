"""Annotated field types shared by the API schemas: what a number or a string means, said once.

msgspec ``Meta(description=..., examples=...)`` travels into the OpenAPI document (Swagger UI and
Scalar show it), so a newcomer reads there that money is in integer minor units, that times are
UTC, that exact figures may be fractions "n/d". Context-specific enums (phases, statuses) keep
their meanings in their own ``schemas.py`` and use ``choices`` below to word them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Mapping

import msgspec

MONEY = (
    "Money in integer minor units of the organisation's currency (cents for EUR): "
    "4000000 is 40,000.00 EUR. Never a float."
)
MINOR_UNITS_EXAMPLE = 4_000_000

MinorUnits = Annotated[int, msgspec.Meta(description=MONEY, examples=[MINOR_UNITS_EXAMPLE])]
"""An amount of money in a response."""

MinorUnitsIn = Annotated[int, msgspec.Meta(ge=1, le=10**15, description=MONEY + " At least 1.",
                                           examples=[MINOR_UNITS_EXAMPLE])]
"""A positive amount of money in a request."""

EXACT_NUMBER = (
    "An exact number: a JSON integer when it is whole, otherwise a string \"n/d\", the reduced fraction "
    "numerator/denominator (the tally computes with exact rationals, never floats). Example: \"2000000/43\" "
    "is 2000000 ÷ 43 = 46511.627…; for money it is in minor units like every amount."
)

ExactNumber = Annotated[int | str, msgspec.Meta(description=EXACT_NUMBER, examples=[1_500_000, "2000000/43"])]

UTC_TIME = "A time in UTC, ISO 8601 with its offset (e.g. 2026-05-01T09:00:00Z)."
UtcTime = Annotated[datetime, msgspec.Meta(description=UTC_TIME, examples=["2026-05-01T09:00:00Z"])]
UtcTimeIn = Annotated[datetime, msgspec.Meta(tz=True, description=UTC_TIME + " The offset is required.",
                                             examples=["2026-05-01T09:00:00Z"])]

Sha256Hex = Annotated[str, msgspec.Meta(
    description="A SHA-256 digest, 64 lower-case hexadecimal characters.",
    examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"])]

Currency = Annotated[str, msgspec.Meta(description="ISO 4217 currency code of every amount in this organisation.",
                                       examples=["EUR"])]


def choices(intro: str, meanings: Mapping[str, str]) -> str:
    """A field description that lists each allowed value with its meaning."""
    listed = "; ".join(f"`{value}`: {meaning}" for value, meaning in meanings.items())
    return f"{intro} One of: {listed}."


def doc(description: str, *examples: object) -> msgspec.Meta:
    """Description (and examples) for one field: ``Annotated[Title, doc("The round's title", "Parks 2026")]``."""
    return msgspec.Meta(description=description, examples=list(examples) if examples else None)


def money(description: str, example: int = MINOR_UNITS_EXAMPLE) -> msgspec.Meta:
    """What an amount of money is, followed by the unit (which a later description would hide)."""
    return msgspec.Meta(description=f"{description} {MONEY}", examples=[example])


def utc(description: str) -> msgspec.Meta:
    """What a time is, followed by its format."""
    return msgspec.Meta(description=f"{description} {UTC_TIME}", examples=["2026-05-01T09:00:00Z"])
