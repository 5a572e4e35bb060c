"""The public page of a round: its phases on a timeline, what a resident can do now, the budgets and
the counting rule in plain words."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from pb.accounts import repo as accounts_repo
from pb.core.errors import NotFound
from pb.rounds import service
from pb.rounds.domain import RESULTS_PUBLIC_PHASES
from pb.web.context import Viewer
from pb.web.i18n import _

ROUND_PAGE = "/orgs/{org_id:int}/rounds/{round_id:int}"

# (phase that is this step, step label) in order; later phases count as "after" a step.
STEP_ORDER = ("submission", "review", "voting", "closed", "published", "funding", "completed")
PHASE_STEP = {"draft": -1, "submission": 0, "review": 1, "voting": 2, "closed": 3, "tallied": 3,
              "published": 4, "funding": 5, "completed": 6, "cancelled": -1}


async def organisation_or_404(org_id: FromPath[int]):
    organisation = await accounts_repo.organisation(org_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


def timeline(found) -> list[dict]:
    labels = [_("Proposals"), _("Review"), _("Voting"), _("Counting"), _("Results"), _("Funding"), _("Completed")]
    dates = {0: (found.submission_start, found.submission_end), 2: (found.voting_start, found.voting_end)}
    current = PHASE_STEP.get(found.phase, -1)
    return [{"label": label, "state": "done" if i < current else "current" if i == current else "next",
             "dates": dates.get(i)} for i, label in enumerate(labels)]


def next_actions(phase: str) -> list[tuple[str, str]]:
    """(link suffix, text) for what a resident can do in this phase."""
    actions = {
        "submission": [("/propose", _("Propose a project")), ("/proposals", _("Read the proposals"))],
        "review": [("/proposals", _("Follow the review of the proposals"))],
        "voting": [("/vote", _("Vote")), ("/proposals", _("Read the projects on the ballot")),
                   ("/check", _("Check a receipt"))],
        "closed": [("/check", _("Check a receipt"))],
        "tallied": [("/check", _("Check a receipt"))],
    }.get(phase, [])
    if phase in RESULTS_PUBLIC_PHASES:
        actions = [("/results", _("See the results")), ("/funded", _("Follow the funded projects")),
                   ("/proposals", _("Read the proposals")), ("/check", _("Check a receipt"))]
    return actions


@get(ROUND_PAGE)
async def round_page(viewer: NamedDependency[Viewer], org_id: FromPath[int], round_id: FromPath[int]) -> Template:
    organisation = await organisation_or_404(org_id)
    view = await service.round_view(org_id, round_id, include_draft=False)
    return Template("round.html", context={
        "viewer": viewer, "organisation": organisation, "round": view.round, "budgets": view.budgets,
        "ballot": view.ballot, "timeline": timeline(view.round), "actions": next_actions(view.round.phase),
        "base": f"/orgs/{org_id}/rounds/{round_id}",
    })


ROUTES = [round_page]
