"""Shared helpers for the rule tests (no tests here): small instances, hypothesis
strategies, and a pabutools bridge used only as a test oracle (imported lazily, so the
engine tests run without pabutools)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from pb.tally import Ballot, BallotGroup, Instance, Profile, Project, build_profile


def make_instance(costs: dict[str, object], budget) -> Instance:
    return Instance(projects={pid: Project(pid, cost) for pid, cost in costs.items()}, budget=budget)


def approval(*ballots: str | tuple[str, ...], kind: str = "approval") -> Profile:
    """approval("ab", "ab", "c") with one-letter ids, or tuples of ids."""
    return build_profile(kind, [Ballot(tuple(sorted(set(b)))) for b in ballots])


def expand(profile: Profile) -> list[Ballot]:
    return [group.ballot for group in profile.groups for _ in range(group.count)]


@st.composite
def approval_elections(draw, max_projects: int = 6, max_voters: int = 8, fractional: bool = False):
    """A small approval election: ids p0.., integer (or decimal) costs, 1..max_voters ballots."""
    m = draw(st.integers(1, max_projects))
    ids = [f"p{i}" for i in range(m)]
    if fractional:
        costs = [Fraction(draw(st.integers(0, 400)), 4) for _ in ids]
    else:
        costs = [draw(st.integers(0, 12)) for _ in ids]
    total = sum(costs)
    budget = draw(st.integers(0, max(1, int(total)))) if total else draw(st.integers(0, 5))
    if fractional and draw(st.booleans()):
        budget = Fraction(budget * 4 + draw(st.integers(0, 3)), 4)
    n = draw(st.integers(1, max_voters))
    ballots = []
    for _ in range(n):
        chosen = draw(st.lists(st.sampled_from(ids), min_size=0, max_size=m, unique=True))
        ballots.append(Ballot(tuple(sorted(chosen))))
    instance = make_instance(dict(zip(ids, costs)), budget)
    return instance, build_profile("approval", ballots)


@st.composite
def cumulative_elections(draw, max_projects: int = 5, max_voters: int = 6):
    m = draw(st.integers(1, max_projects))
    ids = [f"p{i}" for i in range(m)]
    costs = [draw(st.integers(1, 10)) for _ in ids]
    budget = draw(st.integers(0, sum(costs)))
    ballots = []
    for _ in range(draw(st.integers(1, max_voters))):
        chosen = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=m, unique=True))
        points = tuple(draw(st.integers(1, 5)) for _ in chosen)
        ballots.append(Ballot(tuple(chosen), points))
    return make_instance(dict(zip(ids, costs)), budget), build_profile("cumulative", ballots)


# --- pabutools as an oracle (tests only) -------------------------------------------------

def to_pabutools(instance: Instance, profile: Profile, multiprofile: bool = True):
    """Build pabutools objects from ours (approval / cumulative). pabutools' priceability
    LP treats a multiprofile ballot as one voter, so pass ``multiprofile=False`` for it."""
    from pabutools.election import (
        ApprovalBallot, ApprovalMultiProfile, ApprovalProfile, CumulativeBallot, CumulativeProfile,
    )
    from pabutools.election import Instance as PInstance
    from pabutools.election import Project as PProject
    from pabutools.fractions import frac

    projects = {pid: PProject(pid, frac(Fraction(p.cost).numerator, Fraction(p.cost).denominator))
                for pid, p in instance.projects.items()}
    budget = Fraction(instance.budget)
    pinstance = PInstance(projects.values(), budget_limit=frac(budget.numerator, budget.denominator))
    if profile.kind in ("approval", "choose-1"):
        pprofile = ApprovalProfile([], instance=pinstance)
        for ballot in expand(profile):
            pprofile.append(ApprovalBallot([projects[i] for i in ballot.items]))
        return pinstance, (pprofile.as_multiprofile() if multiprofile else pprofile)
    if profile.kind == "cumulative":
        pprofile = CumulativeProfile([], instance=pinstance)
        for ballot in expand(profile):
            pprofile.append(CumulativeBallot({projects[i]: v for i, v in zip(ballot.items, ballot.points)}))
        return pinstance, pprofile
    raise ValueError(profile.kind)


def pabutools_outcome(instance: Instance, profile: Profile, rule: str, satisfaction: str = "cost",
                      completion: str = "none") -> list[str]:
    """Winner ids (sorted) of the pabutools rule matching our (rule, options)."""
    from pabutools.election import Additive_Cardinal_Sat, Cardinality_Sat, Cost_Sat
    from pabutools.rules import (
        completion_by_rule_combination, exhaustion_by_budget_increase, greedy_utilitarian_welfare,
        max_additive_utilitarian_welfare, method_of_equal_shares, sequential_phragmen,
    )
    from pabutools.rules.maxwelfare import MaxAddUtilWelfareAlgo

    sat = {"cost": Cost_Sat, "cardinality": Cardinality_Sat, "points": Additive_Cardinal_Sat}[satisfaction]
    pinstance, pprofile = to_pabutools(instance, profile)
    if rule == "greedy":
        out = greedy_utilitarian_welfare(pinstance, pprofile, sat_class=sat)
    elif rule == "phragmen":
        out = sequential_phragmen(pinstance, pprofile)
    elif rule == "max_welfare":
        # The ILP, not pabutools' default primal-dual branch and bound: that one floors its
        # bound (exact only for integer welfare) and walks the projects in set order, so on
        # fractional welfare its answer can be below the optimum and change with PYTHONHASHSEED.
        out = max_additive_utilitarian_welfare(pinstance, pprofile, sat_class=sat,
                                               inner_algo=MaxAddUtilWelfareAlgo.ILP_SOLVER)
    elif completion == "none":
        out = method_of_equal_shares(pinstance, pprofile, sat_class=sat)
    elif completion == "add1":
        out = method_of_equal_shares(pinstance, pprofile, sat_class=sat, voter_budget_increment=1)
    elif completion == "add1_greedy":
        out = completion_by_rule_combination(
            pinstance, pprofile, [method_of_equal_shares, greedy_utilitarian_welfare],
            [{"sat_class": sat, "voter_budget_increment": 1}, {"sat_class": Cost_Sat}])
    else:
        out = exhaustion_by_budget_increase(pinstance, pprofile, method_of_equal_shares, {"sat_class": sat})
    return sorted(p.name for p in out)
