"""Password strength: refuse what an online or offline guesser would find quickly.

Length alone admits ``aaaaaaaaaa``, ``password1234`` and the email address itself, so sign-up also
asks zxcvbn (Dropbox's estimator: dictionaries, keyboard patterns, repeats, dates, l33t) and wants
a score of at least 3 ("safely unguessable", about 10^8 guesses), with the person's own email,
its parts and their name counted as known words. zxcvbn reads at most 72 characters; characters
beyond only add strength.
"""

from __future__ import annotations

import re

from zxcvbn import zxcvbn

MIN_LENGTH = 10
MIN_SCORE = 3
ESTIMATED_CHARACTERS = 72


def password_problem(password: str, email: str, display_name: str = "") -> str | None:
    """Why ``password`` is refused, in words, or None when it is strong enough."""
    if len(password) < MIN_LENGTH:
        return f"The password must have at least {MIN_LENGTH} characters."
    lowered, address = password.lower(), email.strip().lower()
    local_part = address.partition("@")[0]
    if address in lowered or (len(local_part) >= 3 and local_part in lowered):
        return "The password must not contain your email address; choose words nobody can link to you."
    own_words = [address, local_part, *re.split(r"[^\w]+", local_part), *display_name.split()]
    estimate = zxcvbn(password[:ESTIMATED_CHARACTERS], user_inputs=[word for word in own_words if word])
    if estimate["score"] >= MIN_SCORE:
        return None
    feedback = estimate["feedback"]
    hints = " ".join(part for part in [feedback.get("warning") or "", *feedback.get("suggestions", [])] if part)
    return ("The password is too easy to guess. " + (hints + " " if hints else "")
            + "A few unrelated words together make a strong password that is easy to remember.")
