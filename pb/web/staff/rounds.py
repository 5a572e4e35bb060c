"""Round set-up and phase control: create and edit a round, its budgets, criteria and tally rule;
preview the ballot; move the round to its next phase after a confirmation step.

Forms are checked by the API's Structs (RoundCreate, BudgetIn) and then by the same service
functions the API calls; every message lands next to its field, and what was typed comes back.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from pb.accounts.domain import OFFICIAL
from pb.core.errors import Conflict, DomainError, Invalid, NotFound
from pb.proposals import service as proposals_service
from pb.rounds import domain, service
from pb.rounds.api import budget_spec
from pb.rounds.domain import BALLOT_FORMATS, FORMAT_SETTINGS, TRANSITIONS
from pb.rounds.schemas import BudgetIn, RoundCreate
from pb.tally import RULES
from pb.tally.completion import COMPLETIONS
from pb.tally.satisfaction import SATISFACTIONS
from pb.web.context import Viewer
from pb.web.forms import Form, amount_input, check_struct, parse_amount, parse_int
from pb.web.i18n import _
from pb.web.staff.access import Staff, english_detail, refusal, staff_member

STAFF_ROUND = "/orgs/{org_id:int}/staff/rounds/{round_id:int}"
DATES = ("submission_start", "submission_end", "voting_start", "voting_end")
CRITERIA_ROWS_EXTRA = 2
# Tie-breakers offered on the page: the seeded lottery needs a seed ceremony the pages do not run yet.
TIE_BREAKS = ("lexico", "min_cost", "max_cost", "max_votes")
DEFAULT_OPTIONS = {"satisfaction": "cost", "completion": "none", "tie_break": "lexico"}


def round_labels() -> dict[str, str]:
    return {"title": _("Title"), "description": _("Description"), "max_proposal_amount": _("Largest amount a proposal may ask for"),
            "submission_start": _("Proposals open (UTC)"), "submission_end": _("Proposals close (UTC)"),
            "voting_start": _("Voting opens (UTC)"), "voting_end": _("Voting closes (UTC)"),
            "tally_rule": _("Counting rule"), "tally_options": _("Counting options"), "criteria": _("Review criteria"),
            "allow_revision": _("Voters may change their ballot until voting closes")}


def option_help() -> dict[str, dict[str, str]]:
    """Each tally option's values in plain words (as staff/tally-options lists them)."""
    return {
        "satisfaction": {"cost": _("A voter is happier the more money goes to projects they chose (usual for "
                                   "participatory budgets)."),
                         "cardinality": _("A voter is happier the more projects they chose are funded, whatever "
                                          "they cost."),
                         "points": _("A voter's satisfaction is the points or score they gave (needs points or "
                                     "scoring ballots).")},
        "completion": {"none": _("Stop when no project can be paid by its supporters' shares; money may be left."),
                       "add1": _("Raise everyone's share a little at a time until the budget is used as well as "
                                 "possible."),
                       "add1_greedy": _("As above, then fill what is left with the most-voted projects that fit."),
                       "add1_last_feasible": _("Raise everyone's share a little at a time for as long as the outcome "
                                               "still fits the budget (Pabulib's and equalshares.net's Add1)."),
                       "add1_last_feasible_greedy": _("As the previous one, then fill what is left with the "
                                                      "most-voted projects that fit."),
                       "budget_increase": _("Rerun with a larger notional budget while the real one is not "
                                            "exceeded.")},
        "tie_break": {"lexico": _("The project with the smaller number goes first."),
                      "min_cost": _("The cheaper project goes first."),
                      "max_cost": _("The more expensive project goes first."),
                      "max_votes": _("The project on more ballots goes first.")},
    }


def option_titles() -> dict[str, str]:
    return {"satisfaction": _("What counts as a happy voter"), "completion": _("Using the money left over (Equal Shares)"),
            "tie_break": _("When two projects tie"),
            "stop_at_first_misfit": _("Stop at the first project that does not fit (greedy only)"),
            "threshold": _("Minimum votes to be funded (greedy only)")}


def rule_options(rule: str) -> list[str]:
    return list(RULES.get(rule, {}).get("options", {}))


def _utc_text(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M") if value else ""


def _parse_when(text: str) -> datetime | None | str:
    """A datetime-local value read as UTC; "" -> None; anything else unreadable -> "bad"."""
    if not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=timezone.utc)
    except ValueError:
        return "bad"


def _slug(label: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:36] or "criterion"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def round_form_of(found=None) -> dict[str, Any]:
    if found is None:
        return {"title": "", "description": "", "max_proposal_amount": "", **{d: "" for d in DATES},
                "allow_revision": False, "tally_rule": "greedy", "satisfaction": "cost", "completion": "none",
                "tie_break": "lexico", "stop_at_first_misfit": False, "threshold": "",
                "criteria": [{"key": "", "label": "", "description": ""} for _ in range(3)]}
    options = found.options
    tie = options.get("tie_break", "lexico")
    return {"title": found.title, "description": found.description,
            "max_proposal_amount": amount_input(found.max_proposal_amount),
            **{d: _utc_text(getattr(found, d)) for d in DATES}, "allow_revision": found.allow_revision,
            "tally_rule": found.tally_rule, "satisfaction": options.get("satisfaction", "cost"),
            "completion": options.get("completion", "none"), "tie_break": tie[0] if isinstance(tie, list) else tie,
            "stop_at_first_misfit": bool(options.get("stop_at_first_misfit")),
            "threshold": str(options.get("threshold") or ""),
            "criteria": [dict(c) for c in found.criteria_list]
            + [{"key": "", "label": "", "description": ""} for _ in range(CRITERIA_ROWS_EXTRA)]}


def read_round_form(data: dict[str, Any]) -> dict[str, Any]:
    keys, names, descriptions = (_as_list(data.get(n)) for n in ("criterion_key", "criterion_label",
                                                                 "criterion_description"))
    width = max(len(keys), len(names), len(descriptions))
    criteria = [{"key": keys[i] if i < len(keys) else "", "label": (names[i] if i < len(names) else "").strip(),
                 "description": (descriptions[i] if i < len(descriptions) else "").strip()} for i in range(width)]
    form = {k: str(data.get(k, "")).strip() for k in ("title", "description", "max_proposal_amount", *DATES,
                                                     "tally_rule", "satisfaction", "completion", "tie_break",
                                                     "threshold")}
    form["allow_revision"] = data.get("allow_revision") == "on"
    form["stop_at_first_misfit"] = data.get("stop_at_first_misfit") == "on"
    form["criteria"] = criteria
    return form


def _problem_field(problem: str) -> str:
    for name in ("submission_start", "submission_end", "voting_start", "voting_end", "criteri", "tally rule",
                 "Rule", "Option", "Points satisfaction"):
        if name in problem:
            return {"criteri": "criteria", "tally rule": "tally_rule", "Rule": "tally_options",
                    "Option": "tally_options", "Points satisfaction": "tally_options"}.get(name, name)
    return "form"


def _problem_text(problem: str) -> str:
    if re.match(r"^\w+ must not be after \w+\.$", problem):
        return _("This date must not be after the next one (proposals open, close, voting opens, closes).")
    if problem.startswith("Criterion keys must be unique"):
        return _("Two criteria have the same name; give each its own.")
    if problem.startswith("Points satisfaction"):
        return _("Points satisfaction needs points or scoring ballots in every budget.")
    return problem


def service_field_errors(error: DomainError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for problem in error.extra.get("problems", [error.detail]):
        field = _problem_field(problem)
        if field == "form":
            errors.setdefault("form", refusal(error))
        else:
            errors.setdefault(field, _problem_text(problem))
    return errors


def to_round_values(form: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The API's round values from the form, or one message per bad field."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"title": form["title"], "description": form["description"],
                              "allow_revision": form["allow_revision"]}
    amount = parse_amount(form["max_proposal_amount"])
    if amount is None or amount <= 0:
        errors["max_proposal_amount"] = _("Enter an amount above zero, for example 1500 or 1500.50.")
    values["max_proposal_amount"] = amount or 1
    for name in DATES:
        when = _parse_when(form[name])
        if when == "bad":
            errors[name] = _("Enter a date and time, for example 2027-03-01 09:00.")
        values[name] = None if when == "bad" else when
    rule = form["tally_rule"] if form["tally_rule"] in RULES else ""
    if not rule:
        errors["tally_rule"] = _("Choose a counting rule.")
    options: dict[str, Any] = {}
    known = rule_options(rule)
    for name in ("satisfaction", "completion"):
        if name in known and form[name] != DEFAULT_OPTIONS[name]:
            options[name] = form[name]
    if "tie_break" in known and form["tie_break"] != "lexico":
        options["tie_break"] = [form["tie_break"], "lexico"]
    if "stop_at_first_misfit" in known and form["stop_at_first_misfit"]:
        options["stop_at_first_misfit"] = True
    if "threshold" in known and form["threshold"]:
        threshold = parse_int(form["threshold"])
        if threshold is None or threshold < 0:
            errors["threshold"] = _("Enter a whole number of at least 0.")
        else:
            options["threshold"] = threshold
    values["tally_rule"], values["tally_options"] = rule or "greedy", options
    criteria, taken = [], {c["key"] for c in form["criteria"] if c["key"]}
    for row in form["criteria"]:
        if not row["label"]:
            continue
        key = row["key"] if re.fullmatch(r"[a-z0-9_]{1,40}", row["key"] or "") else _slug(row["label"], taken)
        taken.add(key)
        criteria.append({"key": key, "label": row["label"][:200], "description": row["description"][:2000]})
    values["criteria"] = criteria
    _struct, struct_errors = check_struct(RoundCreate, {k: v for k, v in values.items() if v is not None})
    for name, message in struct_errors.items():
        errors.setdefault(name, message)
    return (None if errors else values), errors


def _round_form_context(viewer: Viewer, staff: Staff, form: dict[str, Any], errors: dict[str, str], action: str,
                        found=None) -> dict[str, Any]:
    return {"viewer": viewer, "staff": staff, "organisation": staff.organisation, "form": form, "errors": errors,
            "labels": round_labels(), "action": action, "found": found, "rules": list(RULES),
            "rule_options": {r: rule_options(r) for r in RULES}, "option_help": option_help(),
            "option_titles": option_titles(), "satisfactions": SATISFACTIONS, "completions": COMPLETIONS,
            "tie_breaks": TIE_BREAKS, "settled": found is not None and found.phase not in ("draft", "submission")}


@get("/orgs/{org_id:int}/staff/rounds/new")
async def new_round_page(viewer: NamedDependency[Viewer], org_id: FromPath[int]) -> Template:
    staff = await staff_member(viewer, org_id, (OFFICIAL,))
    return Template("staff/round_form.html", context=_round_form_context(
        viewer, staff, round_form_of(), {}, f"{staff.base}/rounds/new"))


@post("/orgs/{org_id:int}/staff/rounds/new")
async def create_round(viewer: NamedDependency[Viewer], org_id: FromPath[int], data: Form) -> Template | Redirect:
    staff = await staff_member(viewer, org_id, (OFFICIAL,))
    form = read_round_form(data)
    values, errors = to_round_values(form)
    if values is not None:
        try:
            round_id = await service.create_round(staff.actor, values, [])
        except (Invalid, Conflict) as error:
            errors = service_field_errors(error)
        else:
            return Redirect(f"{staff.base}/rounds/{round_id}?created=1", status_code=303)
    return Template("staff/round_form.html", status_code=422, context=_round_form_context(
        viewer, staff, form, errors, f"{staff.base}/rounds/new"))


@get(STAFF_ROUND + "/edit")
async def edit_round_page(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int]) -> Template:
    staff = await staff_member(viewer, org_id, (OFFICIAL,))
    found = (await service.round_view(org_id, round_id, include_draft=True)).round
    return Template("staff/round_form.html", context=_round_form_context(
        viewer, staff, round_form_of(found), {}, f"{staff.base}/rounds/{round_id}/edit", found))


@post(STAFF_ROUND + "/edit")
async def edit_round(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int],
                     data: Form) -> Template | Redirect:
    staff = await staff_member(viewer, org_id, (OFFICIAL,))
    found = (await service.round_view(org_id, round_id, include_draft=True)).round
    form = read_round_form(data)
    values, errors = to_round_values(form)
    if values is not None:
        changes = dict(values)
        if found.phase not in ("draft", "submission"):
            changes = {k: v for k, v in changes.items() if k not in service.SETTLED_AT_REVIEW}
        try:
            await service.update_round(staff.actor, round_id, changes)
        except (Invalid, Conflict) as error:
            errors = service_field_errors(error)
        else:
            return Redirect(f"{staff.base}/rounds/{round_id}?saved=1", status_code=303)
    return Template("staff/round_form.html", status_code=422, context=_round_form_context(
        viewer, staff, form, errors, f"{staff.base}/rounds/{round_id}/edit", found))


# --- budgets ---------------------------------------------------------------------------------------

BUDGET_NUMBERS = ("min_projects", "max_projects", "min_spend_percent", "points_per_voter", "score_min", "score_max")


def budget_labels() -> dict[str, str]:
    return {"name": _("Name"), "kind": _("Who votes in it"), "district": _("District code (as in the census)"),
            "amount": _("Amount"), "ballot_format": _("Ballot format"),
            "min_projects": _("Fewest projects a voter must choose"), "max_projects": _("Most projects a voter may choose"),
            "min_spend_percent": _("Least share of the budget a ballot must spend (%)"),
            "points_per_voter": _("Points each voter shares out"), "score_min": _("Lowest score"),
            "score_max": _("Highest score")}


def format_help() -> dict[str, str]:
    return {"approval": _("Voters tick the projects they support, within the limits you set."),
            "choose-1": _("Voters choose exactly one project."),
            "knapsack": _("Voters tick projects whose total cost fits the budget; you may ask for a minimum spend."),
            "cumulative": _("Voters share a number of points among projects."),
            "scoring": _("Voters give each project they list a score within the range you set."),
            "ordinal": _("Voters rank projects, the most wanted first.")}


def budget_form_of(budget=None) -> dict[str, str]:
    if budget is None:
        return {"name": "", "kind": "district", "district": "", "amount": "", "ballot_format": "approval",
                **{n: "" for n in BUDGET_NUMBERS}}
    return {"name": budget.name, "kind": budget.kind, "district": budget.district or "",
            "amount": amount_input(budget.amount), "ballot_format": budget.ballot_format,
            **{n: "" if getattr(budget, n) is None else str(getattr(budget, n)) for n in BUDGET_NUMBERS}}


def to_budget(form: dict[str, str]) -> tuple[BudgetIn | None, dict[str, str]]:
    errors: dict[str, str] = {}
    amount = parse_amount(form["amount"])
    if amount is None or amount <= 0:
        errors["amount"] = _("Enter an amount above zero, for example 1500 or 1500.50.")
    values: dict[str, Any] = {"name": form["name"], "kind": form["kind"], "amount": amount or 1,
                              "ballot_format": form["ballot_format"]}
    if form["kind"] == "district":
        if not form["district"]:
            errors["district"] = _("A district budget needs the district code used in the census.")
        values["district"] = form["district"] or None
    elif form["kind"] != "citywide":
        errors["kind"] = _("Choose who votes in this budget.")
    allowed = FORMAT_SETTINGS.get(form["ballot_format"], ())
    for name in BUDGET_NUMBERS:
        if name in allowed and form[name]:
            number = parse_int(form[name])
            if number is None:
                errors[name] = _("Enter a whole number.")
            values[name] = number
    if form["ballot_format"] == "cumulative" and not form["points_per_voter"]:
        errors.setdefault("points_per_voter", _("A points ballot needs the number of points each voter has."))
    if form["ballot_format"] == "scoring" and not form["score_max"]:
        errors.setdefault("score_max", _("A scoring ballot needs the highest score."))
    if values.get("min_projects") is not None and values.get("max_projects") is not None \
            and values["min_projects"] > values["max_projects"]:
        errors.setdefault("min_projects", _("The fewest cannot be more than the most."))
    struct, struct_errors = check_struct(BudgetIn, {k: v for k, v in values.items() if v is not None})
    for name, message in struct_errors.items():
        errors.setdefault(name, message)
    return (None if errors else struct), errors


def _budget_problem_errors(error: DomainError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for problem in error.extra.get("problems", [error.detail]):
        if problem.startswith("One budget per district"):
            errors["district"] = _("This round already has a budget for this district.")
        elif problem.startswith("A round has at most one city-wide"):
            errors["kind"] = _("This round already has a city-wide budget.")
        elif problem.startswith("Points satisfaction"):
            errors["ballot_format"] = _("The counting rule uses points: choose a points or scoring ballot.")
        else:
            errors.setdefault("form", refusal(error) if error.code in ("round_frozen", "wrong_phase") else problem)
    return errors


async def _budget_context(viewer, staff: Staff, round_id: int, form, errors, action: str, budget=None) -> dict:
    view = await service.round_view(staff.actor.organisation_id, round_id, include_draft=True)
    return {"viewer": viewer, "staff": staff, "organisation": staff.organisation, "round": view.round, "form": form,
            "errors": errors, "labels": budget_labels(), "action": action, "budget": budget,
            "formats": BALLOT_FORMATS, "format_help": format_help(), "format_settings": FORMAT_SETTINGS,
            "numbers": BUDGET_NUMBERS}


@get(STAFF_ROUND + "/budgets/new")
async def new_budget_page(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int]) -> Template:
    staff = await staff_member(viewer, org_id, (OFFICIAL,))
    return Template("staff/budget_form.html", context=await _budget_context(
        viewer, staff, round_id, budget_form_of(), {}, f"{staff.base}/rounds/{round_id}/budgets/new"))


@get(STAFF_ROUND + "/budgets/{budget_id:int}")
async def edit_budget_page(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int],
                           budget_id: FromPath[int]) -> Template:
    staff = await staff_member(viewer, org_id, (OFFICIAL,))
    view = await service.round_view(org_id, round_id, include_draft=True)
    budget = next((b for b in view.budgets if b.id == budget_id), None)
    if budget is None:
        raise NotFound("No such budget in this round.")
    return Template("staff/budget_form.html", context=await _budget_context(
        viewer, staff, round_id, budget_form_of(budget), {}, f"{staff.base}/rounds/{round_id}/budgets/{budget_id}",
        budget))


async def _save_budget(viewer, org_id: int, round_id: int, data: dict, budget_id: int | None):
    staff = await staff_member(viewer, org_id, (OFFICIAL,))
    form = {k: str(data.get(k, "")).strip() for k in budget_form_of()}
    struct, errors = to_budget(form)
    action = f"{staff.base}/rounds/{round_id}/budgets/" + (str(budget_id) if budget_id else "new")
    if struct is not None:
        try:
            if budget_id is None:
                await service.add_budget(staff.actor, round_id, budget_spec(struct))
            else:
                await service.update_budget(staff.actor, round_id, budget_id, budget_spec(struct))
        except (Invalid, Conflict) as error:
            errors = _budget_problem_errors(error)
        else:
            return Redirect(f"{staff.base}/rounds/{round_id}?saved=1#budgets", status_code=303)
    return Template("staff/budget_form.html", status_code=422, context=await _budget_context(
        viewer, staff, round_id, form, errors, action, budget_id))


@post(STAFF_ROUND + "/budgets/new")
async def add_budget(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int],
                     data: Form) -> Template | Redirect:
    return await _save_budget(viewer, org_id, round_id, data, None)


@post(STAFF_ROUND + "/budgets/{budget_id:int}")
async def update_budget(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int],
                        budget_id: FromPath[int], data: Form) -> Template | Redirect:
    return await _save_budget(viewer, org_id, round_id, data, budget_id)


# --- the round page, the ballot preview and phase control ------------------------------------------

def move_explanation(current: str, target: str) -> str:
    return {
        "submission": _("Residents can write and submit proposals. Budgets can still be added and changed."),
        "review": _("Proposals close. Every submitted proposal goes into review; the criteria and the largest "
                    "amount a proposal may ask for are settled from now on."),
        "voting": _("Opening voting freezes budgets, costs and the rule; the frozen configuration's hash is "
                    "published. Eligible proposals go on the ballot and the number of residents per district is "
                    "committed. Nothing of this can be changed afterwards."),
        "closed": _("Voting ends: no more ballots are accepted. Then you can run the tally."),
        "funding": _("The results stay public; grants to the winning projects are paid from now on."),
        "completed": _("The round is finished; nothing more is paid."),
        "cancelled": _("The round stops for good; nothing of it goes to a vote. This cannot be undone."),
    }.get(target, "")


IRREVERSIBLE = frozenset({"voting", "closed", "cancelled", "completed"})


def next_moves(phase: str) -> list[str]:
    return sorted((t for t in TRANSITIONS.get(phase, ()) if (phase, t) not in domain.DONE_BY_RESULTS),
                  key=lambda t: (t == "cancelled", t))


@get(STAFF_ROUND)
async def round_page(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int],
                     saved: FromQuery[str] = "", created: FromQuery[str] = "") -> Template:
    staff = await staff_member(viewer, org_id)
    view = await service.round_view(org_id, round_id, include_draft=True)
    counts: dict[str, int] = {}
    for p in await proposals_service.list_proposals(staff.actor, round_id):
        counts[p.status] = counts.get(p.status, 0) + 1
    return Template("staff/round.html", context={
        "viewer": viewer, "staff": staff, "organisation": staff.organisation, "round": view.round,
        "budgets": view.budgets, "moves": next_moves(view.round.phase) if staff.official else [],
        "explain": move_explanation, "counts": counts, "saved": bool(saved), "created": bool(created),
        "before_voting": view.round.phase in domain.BEFORE_VOTING,
        "can_add_budget": view.round.phase in ("draft", "submission"), "base": f"{staff.base}/rounds/{round_id}",
    })


@get(STAFF_ROUND + "/preview")
async def ballot_preview(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int]) -> Template:
    """Each budget's ballot as a voter will see it: the frozen ballot once voting opened, else the
    proposals that would go on it today (eligible ones, or every submitted one before review)."""
    staff = await staff_member(viewer, org_id)
    view = await service.round_view(org_id, round_id, include_draft=True)
    if view.ballot is not None:
        projects = {bid: [(p["proposal_id"], p["title"], p["cost"]) for p in items] for bid, items in view.ballot.items()}
    else:
        listed = await proposals_service.list_proposals(staff.actor, round_id)
        wanted = ("eligible",) if any(p.status == "eligible" for p in listed) else (
            "submitted", "in_review", "eligible")
        projects = {}
        for p in listed:
            if p.status in wanted:
                projects.setdefault(p.budget_id, []).append((p.id, p.title, p.final_cost or p.requested_amount))
    budgets = [{"id": b.id, "name": b.name, "amount": b.amount, "ballot_format": b.ballot_format,
                "min_projects": b.min_projects, "max_projects": b.max_projects,
                "min_spend_percent": b.min_spend_percent, "points_per_voter": b.points_per_voter,
                "score_min": b.score_min, "score_max": b.score_max, "projects": projects.get(b.id, [])}
               for b in view.budgets]
    return Template("staff/preview.html", context={
        "viewer": viewer, "staff": staff, "organisation": staff.organisation, "round": view.round, "budgets": budgets,
        "frozen": view.ballot is not None, "base": f"{staff.base}/rounds/{round_id}"})


@get(STAFF_ROUND + "/phase/{target:str}")
async def confirm_move_page(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int],
                            target: FromPath[str]) -> Template:
    staff = await staff_member(viewer, org_id, (OFFICIAL,))
    view = await service.round_view(org_id, round_id, include_draft=True)
    allowed = target in next_moves(view.round.phase)
    return Template("staff/confirm_move.html", status_code=200 if allowed else 409, context={
        "viewer": viewer, "staff": staff, "organisation": staff.organisation, "round": view.round,
        "target": target, "allowed": allowed, "explanation": move_explanation(view.round.phase, target),
        "irreversible": target in IRREVERSIBLE, "base": f"{staff.base}/rounds/{round_id}", "error": None})


@post(STAFF_ROUND + "/phase/{target:str}")
async def move_phase(request: Request, viewer: NamedDependency[Viewer], org_id: FromPath[int],
                     round_id: FromPath[int], target: FromPath[str], data: Form) -> Template | Redirect:
    staff = await staff_member(viewer, org_id, (OFFICIAL,))
    try:
        if data.get("confirm") != "yes":
            raise Invalid("Tick the box to confirm.", code="confirmation_missing")
        await service.move_phase(staff.actor, round_id, target, round_keys=request.app.state.round_keys)
    except (Conflict, Invalid) as error:
        view = await service.round_view(org_id, round_id, include_draft=True)
        message = _("Tick the box to confirm that you want this.") if error.code == "confirmation_missing" \
            else refusal(error)
        return Template("staff/confirm_move.html", status_code=409 if isinstance(error, Conflict) else 422, context={
            "viewer": viewer, "staff": staff, "organisation": staff.organisation, "round": view.round,
            "target": target, "allowed": target in next_moves(view.round.phase),
            "explanation": move_explanation(view.round.phase, target), "irreversible": target in IRREVERSIBLE,
            "base": f"{staff.base}/rounds/{round_id}", "error": message,
            "detail": english_detail(error) if error.code != "confirmation_missing" else None,
            "problems": error.extra.get("problems", [])})
    return Redirect(f"{staff.base}/rounds/{round_id}?saved=1", status_code=303)


ROUTES = [new_round_page, create_round, edit_round_page, edit_round, new_budget_page, edit_budget_page, add_budget,
          update_budget, round_page, ballot_preview, confirm_move_page, move_phase]
