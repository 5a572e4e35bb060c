"""Sign-up password rules: length, not the email, and hard to guess by zxcvbn's estimate."""

from __future__ import annotations

import pytest

from pb.accounts.passwords import password_problem
from pb.demo import DEMO_PASSWORD, STAFF, voter_email
from tests.helpers import PASSWORD


@pytest.mark.parametrize("password, words", [
    ("short", "at least 10 characters"),
    ("aaaaaaaaaa", "Repeats"),
    ("password1234", "too easy to guess"),
    ("qwertyuiop", "too easy to guess"),
    ("jan.kowalski@example.org", "email address"),
    ("Jan.Kowalski2026!", "email address"),  # the local part, whatever the case
    ("Kowalski1984!", "too easy to guess"),  # the person's name and a year
])
def test_guessable_passwords_are_refused_in_words(password, words):
    problem = password_problem(password, "jan.kowalski@example.org", "Jan Kowalski")
    assert problem is not None and words in problem


@pytest.mark.parametrize("password", [PASSWORD, DEMO_PASSWORD, "Tr0ub4dor&3-lantern", "x7$Lq!v9Pz" * 20])
def test_the_test_and_demo_passwords_and_strong_ones_pass(password):
    assert password_problem(password, "jan.kowalski@example.org", "Jan Kowalski") is None


def test_every_demo_account_would_be_let_sign_up_with_the_demo_password():
    """pb demo stores one hash for all its accounts; the password still meets the sign-up rule."""
    for email, name in [(a.email, a.role) for a in STAFF] + [(voter_email(1), "Citizen 001")]:
        assert password_problem(DEMO_PASSWORD, email, name) is None, email
