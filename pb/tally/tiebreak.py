"""Tie-breaking as an explicit, total chain of criteria.

Why: officials must be able to say in advance how ties are resolved, and the
order must not depend on how ballots or projects happen to be listed. A chain
such as ``("min_cost", "max_votes", "lottery")`` compares projects criterion by
criterion; the project id (as a string, pabutools' "lexico") always closes the
chain, so the order is total and reproducible.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from pb.tally.model import Number

TIE_BREAKERS: Mapping[str, str] = {
    "lexico": "smallest project id, compared as a string (pabutools' default: '10' < '9')",
    "min_cost": "cheapest project first",
    "max_cost": "most expensive project first",
    "max_votes": "project listed on most ballots first",
    "lottery": "seeded lottery: SHA-256(seed || project id), smallest digest first",
}


def seed_bytes(seed: str | bytes | None) -> bytes:
    """The lottery seed as bytes (strings are UTF-8 encoded)."""
    if seed is None:
        raise ValueError("tie_break 'lottery' needs a seed")
    return seed.encode("utf-8") if isinstance(seed, str) else bytes(seed)


def lottery_key(seed: bytes, project_id: str) -> bytes:
    """Per-project lottery ticket: depends only on the seed and the id."""
    import hashlib  # here, not at the top: only the lottery needs it (and OpenSSL is slow to load)

    return hashlib.sha256(seed + project_id.encode("utf-8")).digest()


def priority_order(
    costs: Mapping[str, Number],
    votes: Mapping[str, int],
    chain: Sequence[str],
    seed: str | bytes | None = None,
) -> list[str]:
    """All project ids, most favoured first, according to ``chain`` then id.

    ``costs`` and ``votes`` map every project id to its cost and to the number of
    voters listing it. Index in the returned list is the project's tie rank.
    """
    if isinstance(chain, str):
        chain = (chain,)
    unknown = [name for name in chain if name not in TIE_BREAKERS]
    if unknown:
        raise ValueError(f"unknown tie-breaker(s) {unknown}; choose from {sorted(TIE_BREAKERS)}")
    salt = seed_bytes(seed) if "lottery" in chain else b""

    def key(pid: str) -> tuple:
        parts: list[object] = []
        for name in chain:
            if name == "lexico":
                parts.append(pid)
            elif name == "min_cost":
                parts.append(costs[pid])
            elif name == "max_cost":
                parts.append(-costs[pid])
            elif name == "max_votes":
                parts.append(-votes[pid])
            else:
                parts.append(lottery_key(salt, pid))
        parts.append(pid)
        return tuple(parts)

    return sorted(costs, key=key)
