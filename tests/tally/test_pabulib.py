"""The .pb reader and writer (pb.tally.pabulib): format edge cases, exactness,
round trips, and real Pabulib files (the committed set; the full corpus when asked for)."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pb.tally.model import Ballot, BallotGroup, Instance, Profile, Project
from pb.tally.pabulib import (
    PbElection,
    PbFormatError,
    Voter,
    format_number,
    load,
    parse_number,
    read_pb,
    write_pb,
)
from pabulib_files import DATA, read_index


def pb_text(meta: dict, projects: list[str], votes: list[str], vote_header="voter_id;vote") -> str:
    lines = ["META", "key;value"]
    lines += [f"{k};{v}" for k, v in meta.items()]
    lines += ["PROJECTS", "project_id;cost;name"] + projects
    lines += ["VOTES", vote_header] + votes
    return "\n".join(lines) + "\n"


BASE_META = {"description": "t", "num_projects": "3", "num_votes": "3", "budget": "100", "vote_type": "approval"}
BASE_PROJECTS = ["1;40;One", "2;50;Two", "10;60;Ten"]


def simple(**overrides) -> str:
    meta = dict(BASE_META)
    meta.update(overrides)
    return pb_text(meta, BASE_PROJECTS, ["1;1,2", "2;2,1", "3;10"])


# ------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    "text, value",
    [
        ("12", 12),
        ("50000.0", 50000),
        ("776314.03", Fraction(77631403, 100)),
        ("1,5", Fraction(3, 2)),
        (" 7 ", 7),
        ("1/3", Fraction(1, 3)),
        ("-2.5", Fraction(-5, 2)),
        ("1e3", 1000),
    ],
)
def test_parse_number_is_exact(text, value):
    parsed = parse_number(text)
    assert parsed == value
    assert type(parsed) is type(value)


@pytest.mark.parametrize("text", ["", "abc", "nan", "inf", "1.2.3"])
def test_parse_number_rejects_non_numbers(text):
    with pytest.raises(ValueError):
        parse_number(text)


@given(st.fractions())
def test_format_number_then_parse_number_is_identity(value):
    value = int(value) if value.denominator == 1 else value
    assert parse_number(format_number(value)) == value


def test_format_number_prefers_exact_decimals():
    assert format_number(Fraction(77631403, 100)) == "776314.03"
    assert format_number(Fraction(-1, 8)) == "-0.125"
    assert format_number(Fraction(1, 3)) == "1/3"
    assert format_number(5) == "5"


# ------------------------------------------------------------------ reading


def test_basic_approval_file_groups_identical_ballots():
    election = read_pb(simple())
    assert election.instance.budget == 100
    assert election.instance.projects["1"] == Project("1", 40, "One", {})
    assert election.profile.kind == "approval"
    # "1,2" and "2,1" are the same approval ballot
    assert election.profile.groups == (
        BallotGroup(Ballot(("1", "2")), 2),
        BallotGroup(Ballot(("10",)), 1),
    )
    assert election.profile.num_voters == 3
    assert [v.voter_id for v in election.voters] == ["1", "2", "3"]
    assert election.voters[1].ballot == Ballot(("1", "2"))


def test_bom_and_crlf_and_cr():
    text = simple()
    for variant in ("\ufeff" + text, text.replace("\n", "\r\n"), text.replace("\n", "\r")):
        assert read_pb(variant).profile == read_pb(text).profile
    as_bytes = ("\ufeff" + text.replace("\n", "\r\n")).encode("utf-8")
    assert read_pb(as_bytes).instance == read_pb(text).instance


def test_bom_file_on_disk(tmp_path):
    path = tmp_path / "bom.pb"
    path.write_bytes(("\ufeff" + simple()).encode("utf-8"))
    instance, profile = load(path)
    assert "description" in instance.meta  # not "\ufeffMETA"-confused
    assert profile.num_voters == 3
    instance2, _ = load(str(path))
    assert instance2 == instance


def test_quoted_fields_with_semicolons_quotes_and_newlines():
    projects = ['1;40;"Park; playground"', '2;50;"""Konikowo"" - plac zabaw"', '10;60;"two\nlines"']
    text = pb_text(BASE_META, projects, ["1;1,2", "2;10"])
    election = read_pb(text)
    assert election.instance.projects["1"].name == "Park; playground"
    assert election.instance.projects["2"].name == '"Konikowo" - plac zabaw'
    assert election.instance.projects["10"].name == "two\nlines"
    assert election.profile.num_voters == 2


def test_decimal_budget_and_costs_are_exact_fractions():
    text = pb_text(
        dict(BASE_META, budget="776314.03"),
        ["1;50000.0;a", "2;1234.5;b", "10;0.1;c"],
        ["1;1"],
    )
    election = read_pb(text)
    assert election.instance.budget == Fraction(77631403, 100)
    assert isinstance(election.instance.budget, Fraction)
    assert election.instance.projects["1"].cost == 50000
    assert type(election.instance.projects["1"].cost) is int
    assert election.instance.projects["2"].cost == Fraction(2469, 2)
    assert election.instance.projects["10"].cost == Fraction(1, 10)


def test_none_fields_are_absent():
    text = (
        "META\nkey;value\nbudget;100\nvote_type;approval\n"
        "PROJECTS\nproject_id;cost;name;category;votes\n1;10;none;NONE;3\n2;20;B;culture;None\n"
        "VOTES\nvoter_id;vote;age;sex\n1;1,2;none;F\n2;none;30;none\n"
    )
    election = read_pb(text)
    assert election.instance.projects["1"] == Project("1", 10, "", {"votes": "3"})
    assert election.instance.projects["2"] == Project("2", 20, "B", {"category": "culture"})
    assert election.voters[0].extra == {"sex": "F"}
    assert election.voters[1].extra == {"age": "30"}
    assert election.voters[1].ballot == Ballot(())  # a "none" vote is an empty ballot, still a voter
    assert election.profile.num_voters == 2


def test_duplicate_id_in_approval_vote_counts_once():
    text = pb_text(BASE_META, BASE_PROJECTS, ["1;1,2,1", "2;2,2"])
    assert read_pb(text).profile.groups == (
        BallotGroup(Ballot(("1", "2")), 1),
        BallotGroup(Ballot(("2",)), 1),
    )


def test_ordinal_keeps_ranking_and_first_position_of_duplicates():
    text = pb_text(dict(BASE_META, vote_type="ordinal"), BASE_PROJECTS, ["1;10,1,2", "2;2,10,2,1", "3;10,1,2"])
    election = read_pb(text)
    assert election.profile.kind == "ordinal"
    assert election.profile.groups == (
        BallotGroup(Ballot(("10", "1", "2")), 2),
        BallotGroup(Ballot(("2", "10", "1")), 1),
    )


def test_ordinal_with_points_column_keeps_points_as_voter_field():
    text = pb_text(
        dict(BASE_META, vote_type="ordinal"), BASE_PROJECTS, ["1;10,1;3,2"], vote_header="voter_id;vote;points"
    )
    election = read_pb(text)
    assert election.profile.groups[0].ballot == Ballot(("10", "1"))
    assert election.voters[0].extra == {"points": "3,2"}


def test_cumulative_points_exact_and_canonical():
    meta = dict(BASE_META, vote_type="cumulative", max_sum_points="10", min_sum_points="1", max_points="7.5")
    votes = ["1;2,1;5,3", "2;1,2;3,5", "3;10,1,2;2.5,2.5,5", "4;1,10;4,none"]
    text = pb_text(meta, BASE_PROJECTS, votes[:3], vote_header="voter_id;vote;points")
    election = read_pb(text)
    assert election.profile.kind == "cumulative"
    assert election.profile.limits == {"max_sum_points": 10, "min_sum_points": 1, "max_points": Fraction(15, 2)}
    # decreasing points, ties by id; order written does not matter
    assert election.profile.groups == (
        BallotGroup(Ballot(("2", "1"), (5, 3)), 2),
        BallotGroup(Ballot(("2", "1", "10"), (5, Fraction(5, 2), Fraction(5, 2))), 1),
    )
    with pytest.raises(PbFormatError, match="line 21: points value 'none' is not a number"):
        read_pb(pb_text(meta, BASE_PROJECTS, votes, vote_header="voter_id;vote;points"))


def test_cumulative_duplicate_id_keeps_last_points_like_pabutools():
    meta = dict(BASE_META, vote_type="cumulative")
    text = pb_text(meta, BASE_PROJECTS, ["1;1,2,1;3,2,1"], vote_header="voter_id;vote;points")
    assert read_pb(text).profile.groups[0].ballot == Ballot(("2", "1"), (2, 1))


def test_limits_from_meta_are_exact_numbers():
    election = read_pb(simple(min_length="1", max_length="3", max_sum_cost="90.5", min_sum_cost="0"))
    assert election.profile.limits == {
        "min_length": 1,
        "max_length": 3,
        "min_sum_cost": 0,
        "max_sum_cost": Fraction(181, 2),
    }


def test_choose_one_kind():
    election = read_pb(simple(vote_type="choose-1"))
    assert election.profile.kind == "choose-1"


def test_blank_lines_and_spaces_are_tolerated():
    text = (
        "\n META \n key ; value \n\n budget ; 100 \n vote_type ; approval \n\n"
        "PROJECTS\nproject_id ; cost ; name\n 1 ; 40 ; One \n\n 2 ; 50 ; Two\n"
        "\nVOTES\n\nvoter_id ; vote\n 1 ; 1 , 2 \n   \n 2 ; 2\n\n"
    )
    election = read_pb(text)
    assert election.instance.budget == 100
    assert election.instance.projects["1"] == Project("1", 40, "One", {})
    assert election.profile.groups == (
        BallotGroup(Ballot(("1", "2")), 1),
        BallotGroup(Ballot(("2",)), 1),
    )


def test_sections_in_another_order():
    text = (
        "VOTES\nvoter_id;vote\n1;1\n2;1,2\n"
        "PROJECTS\nproject_id;cost\n1;10\n2;20\n"
        "META\nkey;value\nbudget;25\nvote_type;approval\n"
    )
    election = read_pb(text)
    assert election.profile.num_voters == 2
    assert election.instance.budget == 25


def test_empty_ballot_counts_as_a_voter():
    election = read_pb(pb_text(BASE_META, BASE_PROJECTS, ["1;", "2;1"]))
    assert election.profile.groups == (BallotGroup(Ballot(()), 1), BallotGroup(Ballot(("1",)), 1))


def test_unknown_project_in_vote_names_the_line():
    text = pb_text(BASE_META, BASE_PROJECTS, ["1;1,2", "2;2,99", "3;1"])
    with pytest.raises(PbFormatError) as error:
        read_pb(text)
    assert "'99'" in str(error.value)
    assert error.value.line == 16
    assert "line 16" in str(error.value)


def test_unknown_project_error_names_the_file(tmp_path):
    path = tmp_path / "bad.pb"
    path.write_text(pb_text(BASE_META, BASE_PROJECTS, ["1;3"]))
    with pytest.raises(PbFormatError, match=r"bad\.pb: line 15: unknown project id '3'"):
        read_pb(path)


@pytest.mark.parametrize(
    "text, message",
    [
        (pb_text(dict(BASE_META, vote_type="plurality"), BASE_PROJECTS, []), "vote_type"),
        (pb_text(dict(BASE_META, budget="lots"), BASE_PROJECTS, []), "budget"),
        (pb_text(BASE_META, ["1;40;a", "1;50;b"], []), "line 11: project '1' listed twice"),
        (pb_text(BASE_META, ["1;forty;a"], []), "line 10: project '1': cost"),
        (pb_text(BASE_META, ["1;none;a"], []), "has no cost"),
        ("META\nkey;value\nbudget;1\nvote_type;approval\nPROJECTS\nproject_id;cost\n1;1\n", "no VOTES"),
        (pb_text(BASE_META, BASE_PROJECTS, ["1;1"], vote_header="voter_id;ballot"), "no vote column"),
        ("budget;1\n", "before the first section"),
    ],
)
def test_malformed_files_raise_clear_errors(text, message):
    with pytest.raises(PbFormatError, match=message):
        read_pb(text)


def test_load_matches_read_pb_without_voters():
    text = simple()
    election = read_pb(text, voters=False)
    assert election.voters is None
    assert read_pb(text).profile == election.profile


# ------------------------------------------------------------------ writing


def test_write_then_read_keeps_everything():
    text = (
        "META\nkey;value\ndescription;\"a; b\"\nbudget;776314.03\nvote_type;cumulative\nmax_sum_points;10\n"
        "PROJECTS\nproject_id;cost;name;category\nA;100.5;\"x \"\"y\"\"\";culture,sport\nB;7;none;none\n"
        "VOTES\nvoter_id;vote;points;age\nv1;A,B;3,2;20\nv2;B;4;none\n"
    )
    election = read_pb(text)
    again = read_pb(write_pb(election))
    assert again.instance.projects == election.instance.projects
    assert again.instance.budget == election.instance.budget
    assert again.profile == election.profile
    assert again.voters == election.voters
    assert again.meta == dict(election.meta, num_projects="2", num_votes="2")
    assert again.meta["description"] == "a; b"
    assert again.meta["num_votes"] == "2"


def test_write_without_voters_expands_groups():
    instance = Instance({"1": Project("1", 3), "2": Project("2", Fraction(1, 3))}, 5)
    profile = Profile("approval", (BallotGroup(Ballot(("1",)), 2), BallotGroup(Ballot(("1", "2")), 1)))
    text = write_pb(PbElection(instance, profile, {}))
    again = read_pb(text)
    assert again.instance.projects == instance.projects
    assert again.profile == profile
    assert [v.voter_id for v in again.voters] == ["1", "2", "3"]


def test_write_refuses_ids_that_cannot_be_listed_in_a_vote():
    instance = Instance({"a,b": Project("a,b", 3)}, 5)
    with pytest.raises(ValueError):
        write_pb(PbElection(instance, Profile("approval", ()), {}))


_ids = st.text(alphabet="ABCKLxyz0123456789-_", min_size=1, max_size=5)
_plain = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufeff"),
    max_size=12,
).map(str.strip).filter(lambda s: s.lower() != "none" and s.strip() == s)
_amount = st.one_of(
    st.integers(min_value=0, max_value=10**9),
    st.fractions(min_value=0, max_value=10**7, max_denominator=1000),
).map(lambda x: int(x) if isinstance(x, Fraction) and x.denominator == 1 else x)


@st.composite
def elections(draw):
    kind = draw(st.sampled_from(["approval", "choose-1", "ordinal", "cumulative", "scoring"]))
    ids = draw(st.lists(_ids, min_size=1, max_size=6, unique=True))
    projects = {}
    for pid in ids:
        extra = draw(st.dictionaries(st.sampled_from(["category", "votes", "district"]), _plain.filter(bool), max_size=2))
        projects[pid] = Project(pid, draw(_amount), draw(_plain), extra)
    voters = []
    for number in range(draw(st.integers(min_value=0, max_value=8))):
        chosen = draw(st.lists(st.sampled_from(ids), unique=True, max_size=len(ids)))
        if kind in ("approval", "choose-1"):
            ballot = Ballot(tuple(sorted(chosen)))
        elif kind == "ordinal":
            ballot = Ballot(tuple(chosen))
        else:
            values = {pid: draw(_amount) for pid in chosen}
            order = sorted(values, key=lambda pid: (-values[pid], pid))
            ballot = Ballot(tuple(order), tuple(values[pid] for pid in order))
        extra = draw(st.dictionaries(st.sampled_from(["age", "sex"]), _plain.filter(bool), max_size=2))
        voters.append(Voter(f"v{number}", ballot, extra))
    counts: dict[Ballot, int] = {}
    for voter in voters:
        counts[voter.ballot] = counts.get(voter.ballot, 0) + 1
    groups = tuple(
        BallotGroup(b, c) for b, c in sorted(counts.items(), key=lambda item: (",".join(item[0].items), item[0].points or ()))
    )
    meta = {"description": draw(_plain), "country": draw(_plain)}
    instance = Instance(projects, draw(_amount), meta)
    limits = draw(st.dictionaries(st.sampled_from(["max_length", "min_sum_cost", "max_sum_points"]), _amount, max_size=2))
    return PbElection(instance, Profile(kind, groups, limits), meta, tuple(voters))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections())
def test_read_of_write_gives_back_the_same_instance_profile_and_voters(election):
    again = read_pb(write_pb(election))
    assert again.instance.projects == election.instance.projects
    assert again.instance.budget == election.instance.budget
    assert again.profile == election.profile
    assert again.voters == election.voters
    for key, value in election.meta.items():
        assert again.meta[key] == value
    # and writing again gives the same text
    assert write_pb(again) == write_pb(election)


# ------------------------------------------------------------------ real files


def test_committed_files_are_all_present():
    index = read_index(DATA)
    assert sorted(index) == sorted(path.name for path in DATA.glob("*.pb"))
    assert {row["vote_type"] for row in index.values()} == {"approval", "choose-1", "cumulative", "ordinal"}


def every_file_is_read_and_matches_its_index(folder: Path) -> None:
    index = read_index(folder)
    files = sorted(folder.glob("*.pb"))
    assert len(files) == len(index)
    for path in files:
        instance, profile = load(path)
        row = index[path.name]
        assert profile.kind == row["vote_type"], path.name
        assert profile.num_voters == int(row["num_votes"]), path.name
        assert len(instance.projects) == int(row["num_projects"]), path.name
        assert instance.budget == parse_number(row["budget"]), path.name


def test_every_committed_file_is_read_and_matches_its_index():
    every_file_is_read_and_matches_its_index(DATA)


@pytest.mark.corpus
def test_every_corpus_file_is_read_and_matches_its_index(pabulib_corpus):
    every_file_is_read_and_matches_its_index(pabulib_corpus)


def test_real_file_round_trips_through_writer():
    path = DATA / "Poland_Warszawa_2026_Blonia_Wilanowskie.pb"  # a project listed twice in a vote
    election = read_pb(path)
    again = read_pb(io.StringIO(write_pb(election)).getvalue())
    assert again.instance == election.instance
    assert again.profile == election.profile
    assert again.voters == election.voters


# ------------------------------------------------------------------ the fast VOTES path

_TRICKY_VOTES = [
    ["1;1,2", "2;2,1", "3;10"],                      # same set written in two orders: one group
    ["1;1,2,2", "2;2,1", "3;1"],                     # an id listed twice counts once
    ["1;1, 2", "2;2", "3;1"],                        # a space after the comma
    ["1;1,,2", "2;2", "3;1"],                        # a blank id
    ["1;", "2;2", "3;1"],                            # an empty vote
    ["1;none", "2;2", "3;1"],                        # a "none" vote
    ["1;1", "", "2;2"],                              # a blank line inside VOTES
    ["1;1", "2;2", "PROJECTS", "project_id;cost", "99;5"],  # a section after VOTES
    ["1;1", "2;2", "META;", "key;value", "x;y"],     # a section title with a trailing ';'
    ["1;1", "2"],                                    # a row without a vote
    ["1;1", "2;99"],                                 # an unknown project
]


@pytest.mark.parametrize("votes", _TRICKY_VOTES)
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("voters", [True, False])
def test_plain_votes_path_reads_exactly_like_csv(votes, newline, voters):
    """The split-based VOTES reader (and, without the voter list, the numpy grouping of
    numeric ids) is only a faster way to the csv reader's result: same election, or the
    same error (naming the same line), on every tricky input."""
    from pb.tally import pabulib

    text = pb_text(BASE_META, BASE_PROJECTS, votes).replace("\n", newline)
    try:
        careful = pabulib._read(text, None, voters, None)
    except PbFormatError as error:
        with pytest.raises(PbFormatError) as raised:
            read_pb(text, voters=voters)
        assert str(raised.value) == str(error)
        return
    assert read_pb(text, voters=voters) == careful


_PREFIXED_PROJECTS = ["L009;40;A", "L010;50;B", "L100;60;C", "L007;10;D"]


@pytest.mark.parametrize("votes", [
    ["1;L009,L100", "2;L100,L009", "3;L007"],        # prefixed, fixed width: grouped by numpy
    ["1;L009,L009,L010", "2;L010,L009"],             # an id listed twice
    ["1;L9", "2;L010"],                              # width differs from every project id
    ["1;L009,X010", "2;L010"],                       # an id without the prefix
    ["1;L009,LL010", "2;L010"],                      # the prefix twice
    ["1;L009,L999", "2;L010"],                       # an unknown id with the right shape
    ["1;L009;extra", "2;L010"],                      # a column after the vote
])
def test_prefixed_ids_group_exactly_like_csv(votes):
    """Ids such as "L009" (a common prefix, then digits) take the numpy grouping; every
    odd vote falls back to the general path, with the csv reader's result or error."""
    from pb.tally import pabulib

    meta = dict(BASE_META, num_projects="4")
    text = pb_text(meta, _PREFIXED_PROJECTS, votes)
    try:
        careful = pabulib._read(text, None, False, None)
    except PbFormatError as error:
        with pytest.raises(PbFormatError) as raised:
            load(text)
        assert str(raised.value) == str(error)
        return
    instance, profile = load(text)
    assert (instance, profile) == (careful.instance, careful.profile)


def test_numeric_votes_are_handed_over_as_arrays_and_built_on_demand(monkeypatch):
    """The fast path itself: a numeric-id file gives LazyGroups that know their length
    without building objects, then behave as the tuple of groups (numpy groups a file with
    more distinct votes than numbers.SMALL_GROUPS: lowered here)."""
    from pb.tally import numbers
    from pb.tally.grouped import LazyGroups

    monkeypatch.setattr(numbers, "SMALL_GROUPS", 0)
    text = pb_text(BASE_META, BASE_PROJECTS, ["1;10,1", "2;1,10", "3;2", "4;2,2"])
    groups = load(text)[1].groups
    assert isinstance(groups, LazyGroups) and groups._built is None
    assert len(groups) == 2 and groups._built is None
    expected = (BallotGroup(Ballot(("1", "10")), 2), BallotGroup(Ballot(("2",)), 2))
    assert groups == expected and expected == groups and tuple(groups) == expected
    assert groups[0] == expected[0] and hash(groups) == hash(expected)


def test_plain_votes_path_is_taken_on_plain_files():
    """Guards the speed-up itself: an ordinary file is read without csv on VOTES."""
    from pb.tally import pabulib

    text = pb_text(BASE_META, BASE_PROJECTS, ["1;1,2", "2;2,1,1", "3;10"])
    head, lines = pabulib._split_plain_votes(text)
    assert lines == ["voter_id;vote", "1;1,2", "2;2,1,1", "3;10"]
    assert head.rstrip("\n").endswith("10;60;Ten")
    profile = read_pb(text).profile
    assert [(g.ballot.items, g.count) for g in profile.groups] == [(("1", "2"), 2), (("10",), 1)]
    assert pabulib._split_plain_votes(text.replace("Ten", '"Ten"')) is None


def files_read_the_same_on_both_paths(paths: list[Path]) -> None:
    from pb.tally import pabulib

    for path in paths:
        text, source = pabulib._read_text(path)
        assert read_pb(path) == pabulib._read(text, source, True, None), path.name
        careful = pabulib._read(text, source, False, None)
        assert load(path) == (careful.instance, careful.profile), path.name


def test_committed_files_read_the_same_on_both_paths():
    files_read_the_same_on_both_paths(sorted(DATA.glob("*.pb")))


@pytest.mark.corpus
def test_corpus_files_read_the_same_on_both_paths(pabulib_corpus):
    """Every 10th corpus file (all 1,162 were checked once: bench/README.md)."""
    files_read_the_same_on_both_paths(sorted(pabulib_corpus.glob("*.pb"))[::10])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.lists(st.sampled_from(["1", "2", "10", "37", "0"]), min_size=1, max_size=6),
                          st.integers(1, 4)), min_size=1, max_size=30))
def test_numpy_grouping_equals_object_grouping(votes):
    """Invariant: grouping raw vote texts by numpy gives exactly the groups (ids, counts,
    canonical order) that build_profile gives for the same ballots."""
    from pb.tally.grouped import LazyGroups, numeric_approval_groups
    from pb.tally.profile import build_profile

    texts = {}
    for ids, n in votes:
        text = ",".join(ids)
        texts[text] = texts.get(text, 0) + n
    arrays = numeric_approval_groups(list(texts), list(texts.values()), ["0", "1", "2", "10", "37", "99"])
    assert arrays is not None
    ballots = [Ballot(tuple(text.split(","))) for text, n in texts.items() for _ in range(n)]
    assert LazyGroups(arrays) == build_profile("approval", ballots).groups


@pytest.mark.parametrize("projects, votes, header", [
    (['1;40;"One; quoted"', "2;50;Two", "10;60;Ten"], ["1;1,2", "2;2,1", "3;10"], "voter_id;vote"),
    (BASE_PROJECTS, ["1;1,2;3,4", "2;2,1;1,1", "3;10;5"], "voter_id;vote;points"),
])
def test_numpy_grouping_on_the_csv_path_and_with_a_points_column(monkeypatch, projects, votes, header):
    """A quoted field sends the file to the csv reader, whose vote counts are grouped by
    numpy too (on a large file: the threshold is lowered here); an approval file with a
    points column keeps the general grouping. Both read exactly as the careful path."""
    from pb.tally import numbers, pabulib
    from pb.tally.grouped import LazyGroups

    monkeypatch.setattr(numbers, "SMALL_GROUPS", 0)
    text = pb_text(BASE_META, projects, votes, vote_header=header)
    careful = pabulib._read(text, None, False, None)
    instance, profile = load(text)
    assert (instance, profile) == (careful.instance, careful.profile)
    assert isinstance(profile.groups, LazyGroups) == ("points" not in header)
