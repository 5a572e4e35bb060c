"""Who may open a staff page, and the refusals of the services in the reader's language.

The roles per page are the API's guards (pb.*.api ``requires_role``); a page never widens them.
A visitor is sent to sign in, a member of another organisation gets 404 (the organisation's staff
pages do not exist for them), a member without the role gets 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from pb.accounts.domain import AUDITOR, OFFICIAL, REVIEWER, Actor
from pb.core.errors import DomainError, Forbidden, NotFound
from pb.rounds.views import organisation_or_404
from pb.web.context import Viewer
from pb.web.i18n import _, current_language

STAFF = (OFFICIAL, REVIEWER, AUDITOR)
OVERSEERS = (OFFICIAL, AUDITOR)  # read rounds' results, census, members, grants, audit log
REVIEWERS = (REVIEWER, OFFICIAL)  # the API's reviewers (pb.proposals.api.REVIEWERS)


@dataclass(frozen=True, slots=True)
class Staff:
    """The signed-in staff member on a staff page of one organisation."""

    organisation: object
    actor: Actor

    @property
    def official(self) -> bool:
        return self.actor.has(OFFICIAL)

    @property
    def reviewer(self) -> bool:
        return self.actor.has(*REVIEWERS)

    @property
    def overseer(self) -> bool:
        return self.actor.has(*OVERSEERS)

    @property
    def auditor(self) -> bool:
        return self.actor.has(AUDITOR)

    @property
    def base(self) -> str:
        return f"/orgs/{self.actor.organisation_id}/staff"


async def staff_member(viewer: Viewer, org_id: int, roles: tuple[str, ...] = STAFF) -> Staff:
    viewer.require()
    organisation = await organisation_or_404(org_id)
    actor = await viewer.actor(org_id)
    if actor is None:
        raise NotFound("No such organisation.")
    if not actor.has(*roles):
        raise Forbidden("This page needs another role.")
    return Staff(organisation, actor)


def refusal(error: DomainError) -> str:
    """A service refusal in words: a sentence in the reader's language for the refusals a page can
    meet, else the service's own (English) sentence."""
    known = {
        "four_eyes": _("You planned this tranche, so you may not approve it: another official must approve it "
                       "(four eyes)."),
        "illegal_phase_transition": _("The round cannot move to this phase from its current phase."),
        "done_by_results": _("This step happens by running the tally or publishing the results, below."),
        "no_budgets": _("Add at least one budget before opening submissions."),
        "ballot_not_votable": _("The ballot cannot open: some budget has no project on it, or its limits "
                                "cannot be met."),
        "round_frozen": _("Voting has opened: the configuration is frozen and cannot change."),
        "settled_at_review": _("Review has started: the criteria and the maximum amount cannot change any more."),
        "own_proposal": _("You cannot review your own or a co-authored proposal."),
        "same_reviewer": _("You made the decision under appeal: another reviewer must decide the appeal."),
        "tranche_state": _("The tranche is not in a state that allows this now."),
        "over_grant": _("This would plan more than the grant."),
        "not_closed": _("Only a closed round can be tallied."),
        "not_tallied": _("Only a tallied round can be published or verified."),
        "auditor_role_exclusive": _("The auditor role cannot be combined with other roles: auditors change "
                                    "nothing."),
        "census_csv_empty": _("The census file has a header but no residents."),
        "status_changed": _("The proposal changed meanwhile; reload the page."),
        "phase_changed": _("The round changed phase meanwhile; reload the page."),
        "confirmation_missing": _("Tick the box to confirm that you want this."),
        "reference_required": _("Give the bank reference of the transfer."),
        "reason_required": _("Say why the money is taken back."),
    }
    return known.get(error.code or "", error.detail)


def english_detail(error: DomainError) -> str | None:
    """The service's exact sentence, shown beside the translated one when the page is not in English."""
    return error.detail if current_language() != "en" else None
