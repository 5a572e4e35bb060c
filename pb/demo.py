"""Demonstration data: one city, its people and its rounds, built through the real services.

Every act goes through the same service functions the API calls (so the demo's audit chain is the
one a real city would have). The exception is bulk voter accounts: argon2 hashing one password per
voter would take minutes, so the shared demo password is hashed ONCE and the hash is stored for
every voter through the accounts repo. Everyone logs in with the same printed password.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from pb.accounts import repo as accounts_repo
from pb.accounts import service as accounts
from pb.accounts.domain import AUDITOR, CITIZEN, OFFICIAL, REVIEWER, Actor, format_roles
from pb.db import write_transaction
from pb.settings import Settings

DEMO_SLUG = "riverton"
DEMO_CITY = "Riverton (demo city)"
DEMO_PASSWORD = "riverton-demo-2026"
DEMO_DOMAIN = "demo.pb.example"
DISTRICTS = ("north", "centre", "south")


@dataclass(frozen=True, slots=True)
class DemoAccount:
    role: str
    email: str
    roles: tuple[str, ...]


STAFF = (
    DemoAccount("official", f"official@{DEMO_DOMAIN}", (OFFICIAL,)),
    DemoAccount("second official (four eyes)", f"official2@{DEMO_DOMAIN}", (OFFICIAL,)),
    DemoAccount("reviewer", f"reviewer@{DEMO_DOMAIN}", (REVIEWER,)),
    DemoAccount("auditor", f"auditor@{DEMO_DOMAIN}", (AUDITOR,)),
)


@dataclass(slots=True)
class DemoReport:
    organisation_id: int
    created: bool
    seconds: float = 0.0
    accounts: list[DemoAccount] = field(default_factory=list)
    figures: dict[str, int | str] = field(default_factory=dict)


def voter_email(number: int) -> str:
    return f"citizen{number:03d}@{DEMO_DOMAIN}"


def voter_district(number: int) -> str:
    return DISTRICTS[number % len(DISTRICTS)]


def _citizen_accounts(settings: Settings) -> list[DemoAccount]:
    shown = min(3, settings.demo_voters)
    return [DemoAccount(f"citizen ({voter_district(n)})", voter_email(n), (CITIZEN,)) for n in range(1, shown + 1)]


def reset_database(settings: Settings) -> None:
    """Delete the demo database so it is rebuilt. Refuses anything but a local SQLite file."""
    if settings.is_postgres:
        raise SystemExit("--reset only deletes a local SQLite demo database; drop the PostgreSQL database yourself")
    path = Path(settings.database_url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def _insert_users(emails_and_names: list[tuple[str, str]], password_hash: str) -> list[int]:
    async with write_transaction():
        return [await accounts_repo.insert_user(email, name, password_hash) for email, name in emails_and_names]


async def _build_people(settings: Settings) -> tuple[Actor, dict[str, Actor], list[Actor]]:
    """The organisation, its staff with their roles (set by the first official) and the voters."""
    password_hash = await accounts._hash_password(DEMO_PASSWORD)
    staff_ids = await _insert_users([(a.email, a.role.split(" ")[0].title()) for a in STAFF], password_hash)
    organisation_id = await accounts.create_organisation(DEMO_CITY, DEMO_SLUG, staff_ids[0])
    official = await accounts_repo.actor(staff_ids[0], organisation_id)
    staff: dict[str, Actor] = {STAFF[0].email: official}
    for account, user_id in zip(STAFF[1:], staff_ids[1:]):
        await accounts.join_organisation(user_id, organisation_id)
        await accounts.set_roles(official, user_id, set(account.roles))
        staff[account.email] = await accounts_repo.actor(user_id, organisation_id)
    voter_ids = await _insert_users(
        [(voter_email(n), f"Citizen {n:03d}") for n in range(1, settings.demo_voters + 1)], password_hash
    )
    async with write_transaction():
        for user_id in voter_ids:
            await accounts_repo.insert_membership(organisation_id, user_id, format_roles({CITIZEN}))
    voters = [Actor(user_id, organisation_id, frozenset({CITIZEN})) for user_id in voter_ids]
    return official, staff, voters


async def _figures(organisation_id: int) -> dict[str, int | str]:
    from pb.audit import service as audit

    verdict = await audit.verify(organisation_id)
    members = await accounts_repo.list_members(organisation_id)
    return {
        "members": len(members),
        "audit events": verdict.events_checked,
        "audit chain": "ok" if verdict.ok else f"BROKEN at {verdict.broken_seq}",
    }


async def ensure_demo(settings: Settings) -> DemoReport:
    """Build the demo city unless it exists (idempotent); report what is there."""
    from pb import db

    started = time.perf_counter()
    await db.migrate()
    existing = await accounts_repo.organisation_by_slug(DEMO_SLUG)
    if existing is None:
        official, staff, voters = await _build_people(settings)
        organisation_id, created = official.organisation_id, True
    else:
        organisation_id, created = existing.id, False
    return DemoReport(
        organisation_id=organisation_id, created=created, seconds=time.perf_counter() - started,
        accounts=[*STAFF, *_citizen_accounts(settings)], figures=await _figures(organisation_id),
    )


def describe(report: DemoReport, settings: Settings) -> str:
    """What `pb demo` prints: the accounts with their password and the figures."""
    action = f"built in {report.seconds:.1f} s" if report.created else "already present (use --reset to rebuild)"
    lines = [f"Demo city '{DEMO_CITY}' (organisation {report.organisation_id}) {action}.", "",
             "Log in (POST /api/auth/login) with any of these accounts:"]
    width = max(len(a.email) for a in report.accounts)
    for account in report.accounts:
        lines.append(f"  {account.email:<{width}}  password: {DEMO_PASSWORD}   {account.role}")
    if settings.demo_voters > 3:
        lines.append(f"  … and {voter_email(4)} to {voter_email(settings.demo_voters)}, same password")
    lines += ["", "Figures:"] + [f"  {name}: {value}" for name, value in report.figures.items()]
    lines.append(f"Database: {settings.database_url}   Secrets: {os.fspath(settings.secrets_dir)}")
    return "\n".join(lines)
