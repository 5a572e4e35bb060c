"""``pb.tally.jsontext.dumps`` writes what ``json.dumps(value, ensure_ascii=False)`` writes
(the invariant of its docstring), on random documents and on the awkward strings."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pb.tally.jsontext import dumps

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(),
                    st.floats(allow_nan=False, allow_infinity=False))
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner), st.tuples(inner, inner),
                                                          st.dictionaries(st.text(), inner)), max_leaves=40)


@settings(max_examples=500)
@given(DOCUMENTS)
def test_the_text_is_json_dumps(document):
    assert dumps(document) == json.dumps(document, ensure_ascii=False)


def test_escapes_are_json_s():
    text = "".join(map(chr, range(0x80))) + 'ą"\\\u2028\U0001f600'
    assert dumps({text: [text, 10**400, -0.0, 1e300, True, None]}) == json.dumps(
        {text: [text, 10**400, -0.0, 1e300, True, None]}, ensure_ascii=False)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {1: 2}, {"a": {1, 2}}, b"x"])
def test_what_is_not_a_document_is_refused(value):
    with pytest.raises((TypeError, ValueError)):
        dumps(value)
