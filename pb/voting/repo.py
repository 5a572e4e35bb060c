"""Queries for the census, participation and ballots. Engine differences live here."""

from __future__ import annotations

from pb.voting.tables import CensusEntry


async def eligible_counts(organisation_id: int) -> dict[str, int]:
    """Census entries per district: the eligible counts committed when voting opens.

    A city-wide budget's eligible count is the sum of all districts.
    """
    rows = await CensusEntry.raw(
        "SELECT district, COUNT(*) AS n FROM census_entry WHERE organisation_id = {} GROUP BY district",
        organisation_id,
    )
    return {row["district"]: int(row["n"]) for row in rows}
