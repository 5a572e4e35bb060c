"""The Pabulib sandbox: import a real .pb file and see what every rule would choose on it.

Kept apart from real rounds on purpose (own table, never on a ballot, never paid): it is where an
official tries rules on real ballots before configuring a round.
"""

from __future__ import annotations

from dataclasses import dataclass

import anyio.to_thread

from pb.accounts.domain import Actor
from pb.audit import service as audit
from pb.core.clock import utcnow
from pb.core.errors import Invalid, NotFound
from pb.db import write_transaction
from pb.sandbox import domain, repo
from pb.tally.pabulib import PbFormatError, read_pb

MAX_FILE_BYTES = 8 * 1024 * 1024  # the largest Pabulib files (Warsaw) are ~6 MB


async def import_pb(actor: Actor, title: str, data: bytes) -> repo.SandboxRow:
    """Store a .pb file after reading it completely; a file pb.tally cannot read is refused (422)."""
    if not data:
        raise Invalid("The request body must be a Pabulib .pb file; it was empty.", code="pb_empty")
    if len(data) > MAX_FILE_BYTES:
        raise Invalid(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.", code="pb_too_large")
    try:
        text = data.decode("utf-8-sig")
        election = await anyio.to_thread.run_sync(lambda: read_pb(text))
    except UnicodeDecodeError as error:
        raise Invalid("The file is not UTF-8 text.", code="pb_unreadable") from error
    except PbFormatError as error:
        raise Invalid(f"The file is not a readable Pabulib file: {error}", code="pb_unreadable") from error
    title = (title or election.meta.get("description") or "Imported election").strip()[:200]
    created_at = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    async with write_transaction():
        election_id = await repo.insert(actor.organisation_id, title, text, len(election.instance.projects),
                                        election.profile.num_voters, actor.user_id, created_at)
        await audit.record(actor.organisation_id, actor.pseudonym, "sandbox.imported", f"sandbox:{election_id}",
                           {"projects": len(election.instance.projects), "voters": election.profile.num_voters})
    return repo.SandboxRow(election_id, actor.organisation_id, title, len(election.instance.projects),
                           election.profile.num_voters, created_at)


async def list_elections(actor: Actor) -> list[repo.SandboxRow]:
    return await repo.list_for(actor.organisation_id)


@dataclass(frozen=True, slots=True)
class Comparison:
    election: repo.SandboxRow
    budget: int | str
    projects: list[dict]  # id, name, cost, and per rule label: selected / reason
    rules: list[domain.RuleOutcome]


async def compare(actor: Actor, election_id: int, rules: str | None) -> Comparison:
    found = await repo.pb_text(actor.organisation_id, election_id)
    if found is None:
        raise NotFound("No such sandbox election in this organisation.")
    row, text = found
    try:
        labels = domain.rule_labels(rules)
    except ValueError as error:
        raise Invalid(f"Bad rules: {error}.", code="bad_rules") from error
    election = read_pb(text)
    outcomes = await anyio.to_thread.run_sync(lambda: domain.compare(election, labels))
    projects = [
        {"id": pid, "name": project.name, "cost": domain.jsonable(project.cost),
         "selected_by": [o.label for o in outcomes if pid in o.winners],
         "reasons": {o.label: o.reasons.get(pid, "") for o in outcomes}}
        for pid, project in sorted(election.instance.projects.items())
    ]
    return Comparison(row, domain.jsonable(election.instance.budget), projects, outcomes)
