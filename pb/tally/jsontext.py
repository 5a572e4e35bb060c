"""``dumps``: the text ``json.dumps(value, ensure_ascii=False)`` gives, without importing json.

Why: ``json`` imports ``re`` (its decoder and encoder compile patterns at import), about
half of an empty interpreter's start-up, and ``pb tally --json`` on a small file computes
for about a millisecond. This writer is pure Python, so slower per value than json's C
encoder: ``pb tally`` uses it for the documents of small electorates only
(``numbers.SMALL_GROUPS``), and json for the others (bench/README.md, "tally_processes.py").

Invariant: for any value made of dicts with str keys, lists, tuples, str, int, bool, None
and finite floats, ``dumps(value) == json.dumps(value, ensure_ascii=False)``.
"""

from __future__ import annotations

# json's escapes with ensure_ascii=False: the quote, the backslash and the control characters
_ESCAPES = {i: f"\\u{i:04x}" for i in range(0x20)}
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\", ord("\b"): "\\b", ord("\f"): "\\f", ord("\n"): "\\n",
                 ord("\r"): "\\r", ord("\t"): "\\t"})


def dumps(value: object) -> str:
    """The JSON text of ``value`` (see the module docstring for what it may hold)."""
    parts: list[str] = []
    _write(value, parts.append)
    return "".join(parts)


def _string(text: str) -> str:
    return '"' + text.translate(_ESCAPES) + '"'


def _write(value: object, out) -> None:
    kind = type(value)
    if kind is str:
        out(_string(value))
    elif value is None:
        out("null")
    elif value is True:
        out("true")
    elif value is False:
        out("false")
    elif kind is int or (isinstance(value, int) and kind is not bool):
        out(int.__repr__(value))
    elif kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"not a finite number: {value!r}")  # json would write NaN / Infinity
        out(float.__repr__(value))
    elif kind is dict:
        out("{")
        first = True
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(f"keys must be str here, got {type(key).__name__}")
            if not first:
                out(", ")
            first = False
            out(_string(key))
            out(": ")
            _write(item, out)
        out("}")
    elif kind is list or kind is tuple:
        out("[")
        for i, item in enumerate(value):
            if i:
                out(", ")
            _write(item, out)
        out("]")
    else:
        raise TypeError(f"cannot write {kind.__name__} as JSON")
