"""The text rules (pb.core.text): what comes out is NFC, visible and stable; what cannot be seen is refused."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings, strategies as st

from pb.core.problems import _pointer
from pb.core.text import LINE, OPAQUE, TEXT, TextProblem, clean

HIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


@settings(max_examples=300)
@given(st.text(max_size=40), st.sampled_from([LINE, TEXT]))
def test_accepted_text_is_nfc_shows_nothing_hidden_and_cleaning_again_changes_nothing(value, kind):
    try:
        cleaned = clean(value, "name", kind)
    except TextProblem as problem:
        assert str(problem).startswith("name: ")
        return
    assert unicodedata.is_normalized("NFC", cleaned)
    allowed = {"\u200c", "\u200d"} | ({"\n", "\r", "\t"} if kind == TEXT else set())
    assert all(c in allowed or unicodedata.category(c) not in HIDDEN_CATEGORIES for c in cleaned)
    assert clean(cleaned, "name", kind) == cleaned


def test_words_that_need_joiners_and_accents_are_kept():
    assert clean("Cafe\u0301", "name") == "Café"
    assert clean("می\u200cخواهم", "name") == "می\u200cخواهم"  # Persian needs the zero-width non-joiner
    assert clean("👩\u200d👩\u200d👧", "name") == "👩\u200d👩\u200d👧"
    assert clean("line one\nline two", "name", TEXT) == "line one\nline two"


@pytest.mark.parametrize("value", ["nor\u202eth", "\u200b", "\ufeffbom", "a\x00", "\x1b[0m", "x\uffff", "\u2028"])
def test_what_cannot_be_seen_is_refused(value):
    with pytest.raises(TextProblem, match="^name: "):
        clean(value, "name")


def test_opaque_strings_keep_every_character_but_nul():
    assert clean(" Pass\u202eword\t", "password", OPAQUE) == " Pass\u202eword\t"
    with pytest.raises(TextProblem, match="NUL"):
        clean("a\x00", "password", OPAQUE)


def test_msgspec_paths_become_json_pointers():
    assert _pointer(".budgets[0].name") == "/budgets/0/name"
    assert _pointer("") == ""
    assert _pointer('.options["a/b"]') == "/options/a~1b"
