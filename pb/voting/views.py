"""Voting pages: the budgets a resident may vote in, one ballot screen per format, a review step,
casting, the receipt, the public receipt check, and binding an account to the census.

Every screen is a plain form that works without JavaScript. htmx only refreshes the running
summary (count, money or points left) as choices change; the server computes it exactly, from the
same frozen budget the cast is checked against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from pb.accounts import service as accounts_service
from pb.core.errors import Conflict, Forbidden, Invalid, NotFound
from pb.core.ratelimit import rate_limited
from pb.rounds import service as rounds_service
from pb.rounds.domain import CHOOSE_ONE, CUMULATIVE, KNAPSACK, ORDINAL, POINTS_FORMATS, SCORING
from pb.rounds.views import organisation_or_404
from pb.voting import service
from pb.web import session
from pb.web.context import Viewer
from pb.web.forms import Form, parse_int
from pb.web.i18n import _
from pb.web.labels import ballot_problem
from pb.web.views import safe_next

ROUND = "/orgs/{org_id:int}/rounds/{round_id:int}"
RECEIPT_PATTERN = re.compile(r"^[0-9a-f]{64}$")


def _census_key(request: Request) -> bytes:
    return request.app.state.census_key


@dataclass(slots=True)
class Choices:
    """What the voter has chosen so far, read from the ballot form (kept when a ballot is refused)."""

    projects: list[int] = field(default_factory=list)  # ranked formats: in order of preference
    points: dict[int, int] = field(default_factory=dict)
    typed: dict[int, str] = field(default_factory=dict)  # points as typed, for re-display
    bad_points: bool = False

    def cast_args(self, ballot_format: str) -> tuple[list[int], list[int] | None]:
        if ballot_format in POINTS_FORMATS:
            return self.projects, [self.points[p] for p in self.projects]
        return self.projects, None


def read_choices(budget: Mapping[str, Any], form: Mapping[str, Any]) -> Choices:
    ballot_format = budget.get("ballot_format", "approval")
    on_ballot = [int(p["proposal_id"]) for p in budget["projects"]]
    choices = Choices()
    if ballot_format in POINTS_FORMATS:
        for pid in on_ballot:
            raw = str(form.get(f"points-{pid}", "")).strip()
            choices.typed[pid] = raw
            if raw == "":
                continue
            value = parse_int(raw)
            if value is None or value < 0:
                choices.bad_points = True
                continue
            if ballot_format == CUMULATIVE and value == 0:
                continue
            choices.projects.append(pid)
            choices.points[pid] = value
        return choices
    picked = form.get("project", [])
    picked = picked if isinstance(picked, list) else [picked]
    seen = []
    for value in picked:
        pid = parse_int(value)
        if pid in on_ballot and pid not in seen:
            seen.append(pid)
    choices.projects = seen
    return choices


def apply_rank_move(choices: Choices, move: str, on_ballot: list[int]) -> int | None:
    """Ranked ballots without drag and drop: add, remove, up, down. Returns the project moved."""
    verb, _, raw = move.partition(":")
    pid = parse_int(raw)
    ranked = choices.projects
    if pid is None or pid not in on_ballot:
        return None
    if verb == "add" and pid not in ranked:
        ranked.append(pid)
    elif verb == "remove" and pid in ranked:
        ranked.remove(pid)
    elif verb in ("up", "down") and pid in ranked:
        i = ranked.index(pid)
        j = i - 1 if verb == "up" else i + 1
        if 0 <= j < len(ranked):
            ranked[i], ranked[j] = ranked[j], ranked[i]
    return pid


def summary(budget: Mapping[str, Any], choices: Choices) -> dict[str, Any]:
    """The running figures the voter sees: chosen count, money used and left, points used and left."""
    costs = {int(p["proposal_id"]): int(p["cost"]) for p in budget["projects"]}
    spent = sum(costs[pid] for pid in choices.projects)
    amount = int(budget["amount"])
    result: dict[str, Any] = {"count": len(choices.projects), "min": budget.get("min_projects"),
                              "max": budget.get("max_projects"), "format": budget.get("ballot_format", "approval")}
    if result["format"] == KNAPSACK:
        result.update(spent=spent, amount=amount, left=amount - spent, over=spent > amount,
                      percent=min(100, round(100 * spent / amount)) if amount else 0)
    if result["format"] == CUMULATIVE:
        total = int(budget.get("points_per_voter") or 0)
        used = sum(choices.points.values())
        result.update(points_total=total, points_used=used, points_left=total - used, over=used > total)
    return result


def _ballot_context(viewer: Viewer, organisation, round_row, budget: Mapping[str, Any], choices: Choices,
                    error: str | None = None, focus: str | None = None) -> dict[str, Any]:
    return {
        "viewer": viewer, "organisation": organisation, "round": round_row, "budget": budget,
        "projects": budget["projects"], "titles": {int(p["proposal_id"]): p["title"] for p in budget["projects"]},
        "costs": {int(p["proposal_id"]): int(p["cost"]) for p in budget["projects"]},
        "choices": choices, "summary": summary(budget, choices), "error": error, "focus": focus,
        "base": f"/orgs/{organisation.id}/rounds/{round_row.id}",
        "action": f"/orgs/{organisation.id}/rounds/{round_row.id}/vote/{budget['id']}",
    }


async def _voter(viewer: NamedDependency[Viewer], org_id: FromPath[int]):
    viewer.require()
    actor = await viewer.actor(org_id)
    if actor is None:
        raise Forbidden("Join the organisation and confirm you are a resident first.", code="not_in_census")
    return actor


async def _round_and_org(org_id: FromPath[int], round_id: FromPath[int]):
    organisation = await organisation_or_404(org_id)
    view = await rounds_service.round_view(org_id, round_id, include_draft=False)
    return organisation, view.round


@get(ROUND + "/vote")
async def vote_start(request: Request, viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int]) -> Template:
    viewer.require()
    organisation, round_row = await _round_and_org(org_id, round_id)
    actor = await viewer.actor(org_id)
    budgets, problem = [], None
    if round_row.phase != "voting":
        problem = _("This round is not open for voting.")
    elif actor is None:
        problem = "census"
    else:
        try:
            budgets = await service.my_budgets(actor, _census_key(request), round_id)
        except Forbidden:
            problem = "census"
    return Template("voting/start.html", context={
        "viewer": viewer, "organisation": organisation, "round": round_row, "budgets": budgets,
        "problem": problem, "base": f"/orgs/{org_id}/rounds/{round_id}"})


@get(ROUND + "/vote/{budget_id:int}")
async def ballot_page(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int], budget_id: FromPath[int]) -> Template:
    actor = await _voter(viewer, org_id)
    organisation, round_row = await _round_and_org(org_id, round_id)
    budget = await service.ballot_of_voter(actor, round_id, budget_id)
    return Template("voting/ballot.html", context=_ballot_context(viewer, organisation, round_row, budget, Choices()))


@post(ROUND + "/vote/{budget_id:int}/summary")
async def ballot_summary(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int], budget_id: FromPath[int], data: Form) -> Template:
    """htmx: the running summary for the choices so far (the page works without it)."""
    actor = await _voter(viewer, org_id)
    budget = await service.ballot_of_voter(actor, round_id, budget_id)
    _, round_row = await _round_and_org(org_id, round_id)
    return Template("voting/summary.html", context={
        "summary": summary(budget, read_choices(budget, data)), "round": round_row, "budget": budget})


@post(ROUND + "/vote/{budget_id:int}", guards=[rate_limited("casting")])
async def ballot_step(request: Request, viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int], budget_id: FromPath[int],
                      data: Form) -> Template | Redirect:
    """One form, several steps: rank moves, review, change, cast."""
    actor = await _voter(viewer, org_id)
    organisation, round_row = await _round_and_org(org_id, round_id)
    budget = await service.ballot_of_voter(actor, round_id, budget_id)
    choices = read_choices(budget, data)
    action = str(data.get("action", "review"))
    ballot_format = budget.get("ballot_format", "approval")
    if ballot_format == ORDINAL and action.split(":")[0] in ("add", "remove", "up", "down"):
        on_ballot = [int(p["proposal_id"]) for p in budget["projects"]]
        apply_rank_move(choices, action, on_ballot)
        return Template("voting/ballot.html", context=_ballot_context(
            viewer, organisation, round_row, budget, choices, focus=action.replace(":", "-")))
    if action == "change":
        return Template("voting/ballot.html", context=_ballot_context(viewer, organisation, round_row, budget, choices))
    error = _("Give a whole number of points to each project you choose.") if choices.bad_points else None
    if error is None:
        projects, points = choices.cast_args(ballot_format)
        try:
            service.check_choices(budget, projects, points)
        except Invalid as refused:
            error = ballot_problem(refused.code or "", budget)
    if error:
        return Template("voting/ballot.html", status_code=422,
                        context=_ballot_context(viewer, organisation, round_row, budget, choices, error=error))
    if action != "cast":
        return Template("voting/review.html", context=_ballot_context(viewer, organisation, round_row, budget, choices))
    projects, points = choices.cast_args(ballot_format)
    try:
        cast = await service.cast_ballot(actor, _census_key(request), round_id, budget_id, projects, points,
                                         round_keys=request.app.state.round_keys)
    except Conflict as refused:
        message = _("You have already voted in this budget.") if refused.code == "already_voted" \
            else _("This round is not open for voting.")
        return Template("voting/ballot.html", status_code=409, context=_ballot_context(
            viewer, organisation, round_row, budget, choices, error=message))
    response = Redirect(f"/orgs/{org_id}/rounds/{round_id}/receipts/{cast.receipt}?new=1", status_code=303)
    session.keep_receipt(response, request, org_id, round_id, budget_id, cast.receipt)
    return response


def _ballot_titles(config: Mapping[str, Any] | None) -> dict[int, str]:
    if not config:
        return {}
    return {int(p["proposal_id"]): p["title"] for b in config["budgets"] for p in b["projects"]}


@get(ROUND + "/receipts/{receipt:str}")
async def receipt_page(request: Request, viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int], receipt: FromPath[str], new: FromQuery[bool] = False) -> Template:
    organisation, round_row = await _round_and_org(org_id, round_id)
    receipt = receipt.strip().lower()
    if not RECEIPT_PATTERN.match(receipt):
        raise NotFound("No ballot with this receipt in this round.")
    found = await service.look_up_receipt(org_id, round_id, receipt, round_keys=request.app.state.round_keys)
    config = await rounds_service.frozen_config(org_id, round_id)
    budget_names = {int(b["id"]): b["name"] for b in config["budgets"]}
    return Template("voting/receipt.html", context={
        "viewer": viewer, "organisation": organisation, "round": round_row, "receipt": found, "new": new,
        "titles": _ballot_titles(config), "budget_names": budget_names,
        "base": f"/orgs/{org_id}/rounds/{round_id}"})


@get(ROUND + "/check")
async def check_page(request: Request, viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int], receipt: FromQuery[str] = "") -> Template | Redirect:
    """The public receipt check: a form; a known receipt leads to its page."""
    organisation, round_row = await _round_and_org(org_id, round_id)
    error = None
    code = receipt.strip().lower()
    if code:
        if not RECEIPT_PATTERN.match(code):
            error = _("A receipt is 64 characters long, using the digits 0–9 and the letters a–f.")
        else:
            try:
                await service.look_up_receipt(org_id, round_id, code, round_keys=request.app.state.round_keys)
            except NotFound:
                error = _("No ballot with this receipt was received in this round. Check that you copied it "
                          "completely.")
            else:
                return Redirect(f"/orgs/{org_id}/rounds/{round_id}/receipts/{code}", status_code=303)
    return Template("voting/check.html", status_code=404 if error and code and RECEIPT_PATTERN.match(code) else
                    (422 if error else 200), context={
        "viewer": viewer, "organisation": organisation, "round": round_row, "error": error, "receipt": receipt,
        "base": f"/orgs/{org_id}/rounds/{round_id}"})


@get("/orgs/{org_id:int}/census")
async def census_page(viewer: NamedDependency[Viewer], org_id: FromPath[int], next: FromQuery[str] = "") -> Template:
    viewer.require()
    organisation = await organisation_or_404(org_id)
    district = None
    actor = await viewer.actor(org_id)
    if actor is not None:
        try:
            district = (await service.my_census_entry(actor)).district
        except NotFound:
            district = None
    return Template("voting/census.html", context={"viewer": viewer, "organisation": organisation,
                                                   "district": district, "errors": {}, "next": next})


@post("/orgs/{org_id:int}/census", guards=[rate_limited("census-binding")])
async def bind_census(request: Request, viewer: NamedDependency[Viewer], org_id: FromPath[int], data: Form) -> Template | Redirect:
    user_id = viewer.require()
    organisation = await organisation_or_404(org_id)
    identifier = str(data.get("identifier", "")).strip()
    errors = {}
    if not identifier or len(identifier) > 200:
        errors["identifier"] = _("Enter the resident number from the city's letter.")
    else:
        if await viewer.actor(org_id) is None:
            await accounts_service.join_organisation(user_id, org_id)
        actor = await viewer.actor(org_id)
        try:
            await service.bind_census_entry(actor, _census_key(request), identifier)
        except NotFound:
            errors["identifier"] = _("This resident number is not in the census. Check it, or ask the city.")
        except Conflict as refused:
            errors["identifier"] = _("This resident number is already used by another account.") \
                if refused.code == "census_entry_taken" else _("Your account is already linked to a resident number.")
    if errors:
        return Template("voting/census.html", status_code=422, context={
            "viewer": viewer, "organisation": organisation, "district": None, "errors": errors,
            "identifier": identifier, "next": str(data.get("next", ""))})
    return Redirect(safe_next(str(data.get("next", "")), "/me"), status_code=303)


ROUTES = [vote_start, ballot_page, ballot_summary, ballot_step, receipt_page, check_page, census_page, bind_census]
