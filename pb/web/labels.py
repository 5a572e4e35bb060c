"""Codes shown to people in plain words, in the reader's language: phases, statuses, ballot formats,
tally rules, result reasons and broken ballot constraints.

Each function translates at call time (the language is per request); the codes themselves come
from the domain modules, so a new code without words here shows as the code, never as a crash.
"""

from __future__ import annotations

from typing import Any, Mapping

from pb.web.i18n import _


def phase_label(phase: str) -> str:
    return {
        "draft": _("Being prepared"), "submission": _("Proposals open"), "review": _("Review"),
        "voting": _("Voting"), "closed": _("Voting closed"), "tallied": _("Counted"),
        "published": _("Results published"), "funding": _("Funding"), "completed": _("Completed"),
        "cancelled": _("Cancelled"),
    }.get(phase, phase)


def status_label(status: str) -> str:
    return {
        "draft": _("Draft"), "submitted": _("Submitted"), "in_review": _("In review"), "eligible": _("Eligible"),
        "ineligible": _("Not eligible"), "changes_requested": _("Changes requested"), "appealed": _("Appealed"),
        "on_ballot": _("On the ballot"), "selected": _("Selected"), "not_selected": _("Not selected"),
        "funded": _("Funded"), "withdrawn": _("Withdrawn"),
    }.get(status, status)


def decision_label(decision: str) -> str:
    return {"eligible": _("Eligible"), "ineligible": _("Not eligible"),
            "changes_requested": _("Changes requested")}.get(decision, decision)


def tranche_label(status: str) -> str:
    return {"planned": _("Planned"), "approved": _("Approved"), "submitted": _("Payment sent"), "paid": _("Paid"),
            "failed": _("Payment failed"), "reversed": _("Reversed")}.get(status, status)


def rule_title(rule: str) -> str:
    return {"greedy": _("Most votes first (greedy)"), "mes": _("Method of Equal Shares"),
            "phragmen": _("Sequential Phragmén"), "max_welfare": _("Maximum total satisfaction")}.get(rule, rule)


def rule_explanation(rule: str) -> str:
    return {
        "greedy": _("Projects are taken in order of their votes, most first. Each one is funded if it still fits "
                    "in what is left of the budget; one that does not fit is skipped. Simple to follow, but a "
                    "large group can win every project."),
        "mes": _("Every voter gets an equal share of the budget. A project is funded when the people who voted "
                 "for it can pay for it together from their shares; cheaper projects per supporter go first. "
                 "This way a group with a quarter of the votes can decide about a quarter of the money: "
                 "fair to neighbourhoods and minorities."),
        "phragmen": _("Voters earn money at the same speed. A project is bought as soon as its supporters "
                      "together hold its cost, and the cost is spread as evenly as possible among them. "
                      "Counting stops at the first project that no longer fits. It is proportional, like "
                      "Equal Shares."),
        "max_welfare": _("The computer looks for the set of projects that gives voters the most satisfaction "
                         "in total while fitting in the budget."),
    }.get(rule, "")


def format_title(ballot_format: str) -> str:
    return {"approval": _("Approval: tick the projects you support"), "choose-1": _("Choose one project"),
            "knapsack": _("Spend the budget: tick projects within the budget"),
            "cumulative": _("Share your points among projects"), "scoring": _("Give each project a score"),
            "ordinal": _("Rank projects in order of preference")}.get(ballot_format, ballot_format)


def ballot_rules(budget: Mapping[str, Any]) -> list[str]:
    """The frozen ballot settings of a budget as sentences for the voter."""
    rules = []
    kind = budget.get("ballot_format", "approval")
    if budget.get("min_projects"):
        rules.append(_("Choose at least %(n)s projects.", n=budget["min_projects"]))
    if budget.get("max_projects"):
        rules.append(_("Choose at most %(n)s projects.", n=budget["max_projects"]))
    if kind == "choose-1":
        rules.append(_("Choose exactly one project."))
    if kind == "knapsack":
        rules.append(_("The projects you choose may cost at most the budget together."))
        if budget.get("min_spend_percent"):
            rules.append(_("Spend at least %(n)s%% of the budget.", n=budget["min_spend_percent"]))
    if kind == "cumulative":
        rules.append(_("You have %(n)s points. Give at least 1 point to each project you choose.",
                       n=budget.get("points_per_voter")))
    if kind == "scoring":
        rules.append(_("Give each project you choose a score from %(low)s to %(high)s.",
                       low=budget.get("score_min") or 1, high=budget.get("score_max")))
    if kind == "ordinal":
        rules.append(_("Put the projects you want in order: the first is the one you want most."))
    return rules


def ballot_problem(code: str, budget: Mapping[str, Any]) -> str:
    """A refused ballot's constraint (pb.tally BallotError codes) in words."""
    messages = {
        "too_many_projects": _("You chose too many projects: at most %(n)s.", n=budget.get("max_projects") or 1),
        "too_few_projects": _("You chose too few projects: at least %(n)s.", n=budget.get("min_projects") or 1),
        "over_budget": _("The projects you chose cost more than the budget."),
        "below_minimum_spend": _("The projects you chose cost less than the minimum spend of %(n)s%% of the "
                                 "budget.", n=budget.get("min_spend_percent")),
        "unknown_project": _("One of the projects is not on this ballot."),
        "duplicate_project": _("A project is listed twice."),
        "malformed_points": _("Give a whole number of points to each project you choose."),
        "too_many_points": _("You gave more points than you have (%(n)s).", n=budget.get("points_per_voter")),
        "points_per_project_exceeded": _("A score is above the highest allowed (%(n)s).",
                                         n=budget.get("score_max")),
        "points_below_minimum": _("Each project you choose needs at least %(n)s point(s).",
                                  n=budget.get("score_min") or 1),
    }
    return messages.get(code, _("This ballot is not valid."))


def result_reason(reason: str) -> str:
    return {
        "selected": _("Funded."),
        "not_affordable": _("Not funded: when its turn came, it cost more than the money left."),
        "budget_exhausted": _("Not funded: the counting stopped before reaching it."),
        "below_threshold": _("Not funded: it had fewer votes than the minimum."),
        "no_support": _("Not funded: nobody voted for it."),
        "mes_insufficient_support": _("Not funded: the equal shares of its supporters were not enough to pay "
                                      "for it."),
        "not_in_optimum": _("Not funded: the best-fitting set of projects leaves it out."),
    }.get(reason, reason)


TEMPLATE_GLOBALS = {
    "phase_label": phase_label, "status_label": status_label, "decision_label": decision_label,
    "tranche_label": tranche_label, "rule_title": rule_title, "rule_explanation": rule_explanation,
    "format_title": format_title, "ballot_rules": ballot_rules, "result_reason": result_reason,
}
