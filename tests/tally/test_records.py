"""The engine's records without ``dataclasses``: the model's hand-written immutable records
(``pb.tally.model.Record``) and the ``dataclass`` stand-in of ``pb.tally.records`` behave
as the dataclasses they replace (start-up time: bench/README.md, "tally_processes.py")."""

from __future__ import annotations

import copy
import pickle
from fractions import Fraction

import pytest

from pb.tally.model import (
    Ballot, BallotGroup, Instance, Profile, Project, ProjectOutcome, Record, TallyResult,
)
from pb.tally.records import dataclass, field


def test_model_records_compare_hash_and_print_by_their_fields():
    ballot = Ballot(("1", "2"))
    assert ballot == Ballot(items=("1", "2"), points=None) and hash(ballot) == hash(Ballot(("1", "2")))
    assert ballot != Ballot(("1",)) and ballot != ("1", "2")
    assert repr(ballot) == "Ballot(items=('1', '2'), points=None)"
    assert len({BallotGroup(ballot, 3), BallotGroup(Ballot(("1", "2")), 3), BallotGroup(ballot, 4)}) == 2
    assert Project("a", 5) == Project(id="a", cost=5, name="", extra={})
    assert Project("a", 5).extra is not Project("b", 5).extra  # a fresh dict each time
    assert Instance({}, Fraction(1, 2)).meta == {} and Profile("approval", ()).limits == {}
    assert ProjectOutcome("a", True, "selected").figures == {}
    result = TallyResult("greedy", ("a",), 5, 10, {})
    assert result.options == {} and result == TallyResult("greedy", ("a",), 5, 10, {}, {})


def test_model_records_are_immutable_and_survive_pickle_and_copy():
    profile = Profile("approval", (BallotGroup(Ballot(("1",)), 2),), {"max_length": 1})
    with pytest.raises(AttributeError):
        profile.kind = "ordinal"
    with pytest.raises(AttributeError):
        del profile.groups
    with pytest.raises(AttributeError):
        profile.other = 1  # slots: no new attributes either
    assert pickle.loads(pickle.dumps(profile)) == profile and copy.deepcopy(profile) == profile
    assert profile.num_voters == 2


@dataclass(slots=True)
class Sample:
    first: int
    items: list = field(default_factory=list)
    note: str | None = None


def test_records_dataclass_builds_what_dataclasses_would():
    sample = Sample(1)
    assert (sample.first, sample.items, sample.note) == (1, [], None)
    assert Sample(1).items is not sample.items  # default_factory: a fresh list each time
    assert Sample(1, [2], note="x") == Sample(first=1, items=[2], note="x") != Sample(2)
    assert repr(Sample(1)) == "Sample(first=1, items=[], note=None)"
    assert Sample.__slots__ == ("first", "items", "note")
    sample.note = "changed"  # mutable, as the dataclass was
    assert sample.note == "changed"
    with pytest.raises(AttributeError):
        sample.other = 1
    with pytest.raises(TypeError):
        hash(sample)
    for bad in (lambda: Sample(), lambda: Sample(1, [], None, 4), lambda: Sample(1, first=2),
                lambda: Sample(1, colour="red")):
        with pytest.raises(TypeError):
            bad()


def test_records_dataclass_refuses_a_field_without_default_after_one_with():
    with pytest.raises(TypeError):
        @dataclass
        class Bad:
            first: int = 0
            second: int


class Single(Record):
    __slots__ = ("value",)

    def __init__(self, value):
        object.__setattr__(self, "value", value)


def test_a_record_of_one_field_still_compares_and_prints_by_it():
    assert Single(1) == Single(1) != Single(2) and hash(Single(1)) == hash(Single(1))
    assert repr(Single("x")) == "Single(value='x')" and pickle.loads(pickle.dumps(Single(3))) == Single(3)
