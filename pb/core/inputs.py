"""Shared building blocks for API input Structs: the base class and the strict field types.

Every request body Struct derives from ``Input``: unknown fields are refused, and after msgspec
has checked the types, every string is passed through ``pb.core.text`` according to the kind its
type declares (``line``/``text`` below; any other string is opaque and only NUL-checked). Values
of free-form JSON (``dict[str, Any]``) are checked the same way and may not nest deeper than
``MAX_NESTING``. A problem is raised as ``TextProblem``, which msgspec turns into a validation
error at the Struct's position; the problem handler turns that into a JSON pointer.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args

import msgspec

from pb.core.text import LINE, OPAQUE, TEXT, TextProblem, clean

# Row ids are SERIAL (32-bit) on PostgreSQL; a larger number cannot name a row on either engine.
MAX_ID = 2**31 - 1
MAX_NESTING = 32

Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]


def line(max_length: int, min_length: int = 1, description: str | None = None) -> Any:
    """A single visible line of at most ``max_length`` characters (names, titles, districts)."""
    return Annotated[str, msgspec.Meta(min_length=min_length, max_length=max_length, description=description,
                                       extra={"text": LINE})]


def text(max_length: int, min_length: int = 0, description: str | None = None) -> Any:
    """Running text that may hold line breaks (descriptions, reasons, reports)."""
    return Annotated[str, msgspec.Meta(min_length=min_length, max_length=max_length, description=description,
                                       extra={"text": TEXT})]


def _text_kind(annotation: Any) -> str | None:
    """The text kind declared anywhere inside ``annotation`` (through unions, lists, Annotated)."""
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, msgspec.Meta) and meta.extra and "text" in meta.extra:
            return meta.extra["text"]
    for argument in get_args(annotation):
        if (kind := _text_kind(argument)) is not None:
            return kind
    return None


_PLANS: dict[type, list[tuple[str, str]]] = {}


def _plan(struct_type: type) -> list[tuple[str, str]]:
    """(field name, text kind) for every field of ``struct_type``; computed once per class."""
    if struct_type not in _PLANS:
        _PLANS[struct_type] = [(field.name, _text_kind(field.type) or OPAQUE)
                               for field in msgspec.structs.fields(struct_type)]
    return _PLANS[struct_type]


def _checked(value: Any, path: str, kind: str, depth: int) -> Any:
    if depth > MAX_NESTING:
        raise TextProblem(f"{path}: is nested more than {MAX_NESTING} levels deep.")
    if isinstance(value, str):
        return clean(value, path, kind)
    if isinstance(value, list):
        if depth < MAX_NESTING and not any(isinstance(item, _CHECKED_TYPES) for item in value):
            return value  # numbers, booleans, nulls: nothing to check (the common case: lists of ids)
        return [_checked(item, f"{path}/{index}", kind, depth + 1) for index, item in enumerate(value)]
    if isinstance(value, dict):
        checked = {}
        for key, item in value.items():
            key_path = f"{path}/{key.replace('~', '~0').replace('/', '~1')}"
            checked[clean(key, key_path, OPAQUE)] = _checked(item, key_path, kind, depth + 1)
        return checked
    return value


_CHECKED_TYPES = (str, list, dict)


def checked_field(struct_type: type, name: str, value: Any) -> Any:
    """``value`` of ``struct_type``'s field ``name`` after the text rules (TextProblem if refused)."""
    if not isinstance(value, _CHECKED_TYPES):
        return value
    kind = next((kind for field, kind in _plan(struct_type) if field == name), OPAQUE)
    return _checked(value, name, kind, 0)


class Input(msgspec.Struct, forbid_unknown_fields=True):
    """Base of every request body: explicit fields only, every string checked by the text rules."""

    def __post_init__(self) -> None:
        for name, _ in _plan(type(self)):
            setattr(self, name, checked_field(type(self), name, getattr(self, name)))
