"""Round use cases: create and configure a round, move its phases, freeze it when voting opens.

Every change locks the round row first and re-checks the phase under that lock, so no change can
slip in between a freeze and its commit; the frozen config is what voting and the tally read.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from pb.accounts import repo as accounts_repo
from pb.accounts.domain import Actor
from pb.audit import service as audit
from pb.core.canonical import canonical_json
from pb.core.clock import utcnow
from pb.core.keyring import store_lottery_seed
from pb.core.errors import Conflict, Invalid, NotFound
from pb.core.keyring import RoundKeyStore
from pb.db import write_transaction
from pb.proposals import repo as proposals_repo
from pb.proposals.domain import IN_REVIEW, SUBMITTED
from pb.rounds import domain, repo
from pb.rounds.domain import (
    BEFORE_VOTING, CLOSED, DRAFT, REVIEW, SUBMISSION, VOTING, BudgetSpec, FrozenBudget, FrozenProject,
)
from pb.rounds.repo import BudgetRow, RoundRow
from pb.record.spec import lottery_commitment, uses_lottery
from pb.tally import RULES
from pb.voting import repo as voting_repo
from pb.voting import service as voting

# Settings that proposals and reviews are judged against may change only before review starts.
LOTTERY_SEED_BYTES = 32
SETTLED_AT_REVIEW = frozenset({"criteria", "max_proposal_amount"})
DATE_FIELDS = ("submission_start", "submission_end", "voting_start", "voting_end")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RoundView:
    round: RoundRow
    budgets: list[BudgetRow]
    ballot: dict[int, list[dict[str, Any]]] | None  # budget id -> frozen projects, once voting opened
    next_phase: domain.PhaseDue | None = None  # what the round's dates call for next


def _check(problems: list[str], code: str) -> None:
    if problems:
        raise Invalid(" ".join(problems), code=code, extra={"problems": problems})


def _check_settings(values: dict[str, Any]) -> None:
    _check(domain.tally_problems(values["tally_rule"], values["tally_options"], RULES), "bad_tally_rule")
    _check(domain.tally_settings_problems(values["tally_rule"], values["tally_options"]), "bad_tally_rule")
    _check(domain.criteria_problems(values["criteria"]), "bad_criteria")
    _check(domain.date_problems(*(values[name] for name in DATE_FIELDS)), "bad_dates")


def _check_budgets(specs: Sequence[BudgetSpec]) -> None:
    _check([problem for spec in specs for problem in domain.budget_problems(spec)], "bad_budget")
    _check(domain.budget_set_problems(specs), "bad_budgets")


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    """Round column values: JSON fields as canonical JSON text."""
    stored = dict(values)
    for name in ("criteria", "tally_options"):
        if name in stored:
            stored[name] = canonical_json(stored[name])
    return stored


async def _locked_round(actor: Actor, round_id: int) -> RoundRow:
    found = await repo.lock_round(actor.organisation_id, round_id)
    if found is None:
        raise NotFound("No such round in this organisation.")
    return found


def _refuse_if_frozen(found: RoundRow, what: str) -> None:
    if found.phase not in BEFORE_VOTING:
        raise Conflict(f"The round is {found.phase!r}: {what} can change only before voting opens "
                       "(the configuration is frozen).", code="round_frozen")


async def create_round(actor: Actor, values: dict[str, Any], budgets: Sequence[BudgetSpec]) -> int:
    """An official opens a draft round with its settings and budgets."""
    _check_settings(values)
    _check_budgets(budgets)
    _check(domain.rule_format_problems(values["tally_options"], [b.ballot_format for b in budgets]),
           "bad_tally_rule")
    organisation = await accounts_repo.organisation(actor.organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    async with write_transaction():
        round_id = await repo.insert_round(
            actor.organisation_id, actor.user_id, {**_stored(values), "currency": organisation.currency}
        )
        budget_ids = [await repo.insert_budget(round_id, spec) for spec in budgets]
        await audit.record(actor.organisation_id, actor.pseudonym, "round.created", f"round:{round_id}", {
            "title": values["title"], "tally_rule": values["tally_rule"], "budgets": budget_ids,
            "max_proposal_amount": values["max_proposal_amount"],
        })
    return round_id


async def update_round(actor: Actor, round_id: int, changes: dict[str, Any]) -> None:
    """Change round settings before voting; criteria and the maximum amount only before review."""
    async with write_transaction():
        found = await _locked_round(actor, round_id)
        _refuse_if_frozen(found, "round settings")
        settled = sorted(SETTLED_AT_REVIEW & changes.keys())
        if settled and found.phase not in (DRAFT, SUBMISSION):
            raise Conflict(f"{', '.join(settled)} cannot change once review has started.", code="settled_at_review")
        current = {"tally_rule": found.tally_rule, "tally_options": found.options, "criteria": found.criteria_list,
                   **{name: getattr(found, name) for name in DATE_FIELDS}}
        _check_settings({**current, **changes})
        _check(domain.rule_format_problems({**current, **changes}["tally_options"],
                                           [b.ballot_format for b in await repo.list_budgets(found.id)]),
               "bad_tally_rule")
        if not await repo.update_round(found.id, _stored(changes)):
            raise Conflict("The round was frozen meanwhile.", code="round_frozen")
        await audit.record(actor.organisation_id, actor.pseudonym, "round.updated", f"round:{found.id}",
                           {"fields": sorted(changes)})


async def add_budget(actor: Actor, round_id: int, spec: BudgetSpec) -> int:
    async with write_transaction():
        found = await _locked_round(actor, round_id)
        if found.phase not in (DRAFT, SUBMISSION):
            raise Conflict(f"Budgets can be added only in the draft or submission phase, not {found.phase!r}.",
                           code="round_frozen" if domain.is_frozen(found.phase) else "wrong_phase")
        specs = [*(b.spec() for b in await repo.list_budgets(found.id)), spec]
        _check_budgets(specs)
        _check(domain.rule_format_problems(found.options, [s.ballot_format for s in specs]), "bad_tally_rule")
        budget_id = await repo.insert_budget(found.id, spec)
        await audit.record(actor.organisation_id, actor.pseudonym, "round.budget_added", f"budget:{budget_id}",
                           {"round": found.id, "amount": spec.amount, "kind": spec.kind})
    return budget_id


async def update_budget(actor: Actor, round_id: int, budget_id: int, spec: BudgetSpec) -> None:
    async with write_transaction():
        found = await _locked_round(actor, round_id)
        budgets = await repo.list_budgets(found.id)
        if budget_id not in {b.id for b in budgets}:
            raise NotFound("No such budget in this round.")
        _refuse_if_frozen(found, "budgets")
        specs = [spec if b.id == budget_id else b.spec() for b in budgets]
        _check_budgets(specs)
        _check(domain.rule_format_problems(found.options, [s.ballot_format for s in specs]), "bad_tally_rule")
        if not await repo.update_budget(found.id, budget_id, spec):
            raise Conflict("The round was frozen meanwhile.", code="round_frozen")
        await audit.record(actor.organisation_id, actor.pseudonym, "round.budget_updated", f"budget:{budget_id}",
                           {"round": found.id, "amount": spec.amount, "ballot_format": spec.ballot_format})


async def move_phase(actor: Actor, round_id: int, target: str, *, round_keys: RoundKeyStore) -> str:
    """A guarded phase transition with its side effects, recorded in the audit log.

    submission -> review puts every submitted proposal in review; review -> voting freezes the round
    and creates its ballot box keys; voting -> closed opens the ballot box once the close is committed
    (no ballot can be cast any more).
    """
    async with write_transaction():
        found = await _locked_round(actor, round_id)
        try:
            domain.move(found.phase, target)
        except domain.IllegalTransition as error:
            raise Conflict(str(error), code="illegal_phase_transition") from error
        if (found.phase, target) in domain.DONE_BY_RESULTS:
            raise Conflict(f"{found.phase} -> {target} happens when you {domain.DONE_BY_RESULTS[found.phase, target]}"
                           " (results), not by a plain phase change.", code="done_by_results")
        details: dict[str, Any] = {"from": found.phase, "to": target}
        if target == SUBMISSION and not await repo.list_budgets(found.id):
            raise Conflict("Add at least one budget before opening submissions.", code="no_budgets")
        if not await repo.change_phase(found.id, found.phase, target):
            raise Conflict("The round changed phase meanwhile.", code="phase_changed")
        if target == REVIEW:
            details["in_review"] = await proposals_repo.set_status_many(found.id, SUBMITTED, IN_REVIEW)
        await audit.record(actor.organisation_id, actor.pseudonym, "round.phase_changed", f"round:{found.id}",
                           details)
        if target == VOTING:
            await _freeze(actor, found)
            await voting.create_ballot_box(round_keys, found.organisation_id, actor.pseudonym, found.id)
        await audit.sign_head(actor.organisation_id)
    if target == CLOSED:
        try:
            await voting.open_ballot_box(round_keys, found.id, actor.pseudonym)
        except Exception:  # the close stands; the tally or the next start-up finishes the opening
            log.exception("opening the ballot box of round %s failed; it is retried at the tally", found.id)
        else:
            async with write_transaction():
                await audit.sign_head(actor.organisation_id)  # the head now includes ballot_box.opened
    return target


async def _freeze(actor: Actor, found: RoundRow) -> str:
    """Put eligible proposals on the ballot, commit the census counts, store and log the config hash."""
    projects = await proposals_repo.put_eligible_on_ballot(found.id)
    budgets = [
        FrozenBudget(b.id, b.name, b.kind, b.district, b.amount, b.ballot_format, b.min_projects, b.max_projects,
                     b.min_spend_percent,
                     [FrozenProject(p.proposal_id, p.title, p.cost) for p in projects if p.budget_id == b.id],
                     points_per_voter=b.points_per_voter, score_min=b.score_min, score_max=b.score_max)
        for b in await repo.list_budgets(found.id)
    ]
    problems = domain.ballot_problems(budgets) + domain.rule_format_problems(
        found.options, [b.ballot_format for b in budgets])
    if problems:
        raise Conflict(" ".join(problems), code="ballot_not_votable", extra={"problems": problems})
    counts = await voting_repo.eligible_counts(found.organisation_id)
    config = domain.frozen_config(
        round_id=found.id, organisation_id=found.organisation_id, title=found.title, currency=found.currency,
        rule=found.tally_rule, options=found.options, budgets=budgets, counts=counts,
        allow_revision=found.allow_revision,
    )
    seed = secrets.token_hex(LOTTERY_SEED_BYTES) if uses_lottery(config) else None
    if seed is not None:  # commit now, reveal at the tally: nobody can pick the seed after seeing ballots
        config["tally"]["lottery_commitment"] = lottery_commitment(seed)
    problems = domain.tally_run_problems(config, seed)
    if problems:
        raise Conflict(" ".join(problems), code="tally_settings_invalid", extra={"problems": problems})
    if seed is not None:
        store_lottery_seed(found.organisation_id, found.id, seed)
    digest = domain.config_hash(config)
    for budget in config["budgets"]:
        await repo.set_eligible_count(budget["id"], budget["eligible_count"])
    if not await repo.store_frozen_config(found.id, canonical_json(config), digest):
        raise Conflict("The round is already frozen.", code="round_frozen")
    await audit.record(actor.organisation_id, actor.pseudonym, "round.frozen", f"round:{found.id}", {
        "hash": digest, "projects": [p.proposal_id for p in projects],
        "eligible_counts": {str(b["id"]): b["eligible_count"] for b in config["budgets"]},
    })
    return digest


async def round_view(organisation_id: int, round_id: int, *, include_draft: bool) -> RoundView:
    found = await repo.get_round(organisation_id, round_id)
    if found is None or (found.phase == DRAFT and not include_draft):
        raise NotFound("No such round in this organisation.")
    config = await repo.frozen_config_by_hash(found.id, found.frozen_config_hash) if found.frozen_config_hash else None
    ballot = {b["id"]: b["projects"] for b in config["budgets"]} if config else None
    return RoundView(found, await repo.list_budgets(found.id), ballot, next_phase_due(found))


def next_phase_due(found: RoundRow) -> domain.PhaseDue | None:
    """The phase the round's dates call for next, as of now (officials move phases by hand)."""
    return domain.next_phase_due(found.phase, {name: getattr(found, name) for name in DATE_FIELDS}, utcnow())


def check_voting_window(voting_start: datetime | None, voting_end: datetime | None) -> None:
    """Refuse (409) a ballot cast before ``voting_start`` or from ``voting_end`` on, when they are set.
    The caller reads the dates (the cast reads them with the phase, in its one statement)."""
    problem = domain.voting_window_problem(voting_start, voting_end, utcnow())
    if problem:
        raise Conflict(problem, code="outside_voting_window")


async def list_rounds(organisation_id: int, *, include_drafts: bool) -> list[RoundRow]:
    """The organisation's rounds; an organisation that does not exist is a 404, not an empty list."""
    rounds = await repo.list_rounds(organisation_id, include_drafts)
    if not rounds and await accounts_repo.organisation(organisation_id) is None:
        raise NotFound("No such organisation.")
    return rounds


async def frozen_config(organisation_id: int, round_id: int) -> dict[str, Any]:
    found = await repo.get_round(organisation_id, round_id)
    if found is None or found.phase == DRAFT:
        raise NotFound("No such round in this organisation.")
    config = await repo.frozen_config_by_hash(found.id, found.frozen_config_hash) if found.frozen_config_hash else None
    if config is None:
        raise NotFound("This round is not frozen yet: the configuration is fixed when voting opens.")
    return config  # shared by the process's cache: never modify it
