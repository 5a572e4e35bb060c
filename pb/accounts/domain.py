"""Roles and the actor on whose behalf a request runs."""

from __future__ import annotations

from dataclasses import dataclass

CITIZEN, REVIEWER, OFFICIAL, AUDITOR = "citizen", "reviewer", "official", "auditor"
ROLES = frozenset({CITIZEN, REVIEWER, OFFICIAL, AUDITOR})


def parse_roles(text: str) -> frozenset[str]:
    return frozenset(role for role in text.split(",") if role)


def format_roles(roles: frozenset[str] | set[str]) -> str:
    unknown = set(roles) - ROLES
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(sorted(unknown))}")
    return ",".join(sorted(roles))


@dataclass(frozen=True, slots=True)
class Actor:
    """A user acting inside one organisation with the roles their membership grants."""

    user_id: int
    organisation_id: int
    roles: frozenset[str]

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def pseudonym(self) -> str:
        """How the audit log names this actor: an id, never personal data."""
        return f"user:{self.user_id}"
