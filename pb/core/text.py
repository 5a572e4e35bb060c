"""The one place that decides which text a person may give us.

Every free-text input (JSON bodies and the census CSV alike) goes through these functions, so a
district name typed in the API and the same name in a CSV file end up as the same string.

- Text is normalised to Unicode NFC, so "é" typed two ways is one district, not two.
- What a reader cannot see is refused, in words: control characters (NUL, ANSI escapes), direction
  overrides such as U+202E (which make "nor\u202eth" look like "north"), zero-width spaces,
  unassigned code points and non-characters such as U+FFFF, private-use and surrogate code points.
  Zero-width joiners/non-joiners stay allowed: emoji sequences and Persian or Indic words need them.
- A single line (names, titles, districts) has no line breaks, loses surrounding spaces and must
  show at least one visible character. Running text (descriptions, reasons) may hold line breaks
  and tabs.
- Opaque strings (passwords, tokens, resident identifiers) are not normalised, only NUL-checked:
  changing them would change what they prove.
"""

from __future__ import annotations

import unicodedata

LINE = "line"  # names, titles, districts, labels: one visible line
TEXT = "text"  # running text: line breaks allowed
OPAQUE = "opaque"  # passwords, tokens, identifiers: kept byte for byte, NUL refused

# Format characters (category Cf) that real words need: the zero-width non-joiner and joiner.
_ALLOWED_FORMAT = {"\u200c", "\u200d"}
_RUNNING_TEXT_CONTROLS = {"\n", "\r", "\t"}
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


_CONTROL_NAMES = {"\x00": "NUL", "\x1b": "ESCAPE", "\x7f": "DELETE"}


class TextProblem(ValueError):
    """Text a person could not read as written; the message says which character and where."""


def _describe(character: str) -> str:
    name = unicodedata.name(character, "") or _CONTROL_NAMES.get(character, "")
    if name:
        return f"U+{ord(character):04X} {name}"
    return f"U+{ord(character):04X}, a control character" if unicodedata.category(character) == "Cc" \
        else f"U+{ord(character):04X}"


def _hidden_character(value: str, allowed: set[str]) -> tuple[int, str] | None:
    for position, character in enumerate(value):
        if character in allowed or character in _ALLOWED_FORMAT:
            continue
        if unicodedata.category(character) in _HIDDEN_CATEGORIES:
            return position, character
    return None


def _is_visible(character: str) -> bool:
    return not character.isspace() and character not in _ALLOWED_FORMAT \
        and unicodedata.category(character)[0] != "M"


def refuse_nul(value: str, field: str) -> str:
    if "\x00" in value:
        raise TextProblem(f"{field}: must not contain a NUL character (U+0000).")
    return value


def clean(value: str, field: str, kind: str = LINE) -> str:
    """``value`` normalised for ``kind``, or TextProblem naming ``field`` and the offending character."""
    if kind == OPAQUE:
        return refuse_nul(value, field)
    value = unicodedata.normalize("NFC", value)
    found = _hidden_character(value, _RUNNING_TEXT_CONTROLS if kind == TEXT else set())
    if found:
        position, character = found
        what = "a line break" if character in "\n\r" else f"an invisible or control character ({_describe(character)})"
        raise TextProblem(f"{field}: contains {what} at position {position + 1}; remove it.")
    if kind == LINE:
        stripped = value.strip()
        if value and not any(_is_visible(character) for character in stripped):
            raise TextProblem(f"{field}: has no visible character.")
        value = stripped
    return value
