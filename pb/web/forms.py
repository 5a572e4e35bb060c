"""HTML form input checked by the same msgspec Structs the JSON API uses.

A page collects every field's problem at once (msgspec stops at the first), in the reader's
language, keyed by field name so the template shows each message next to its field and in the
error summary. What the user typed is always sent back into the form.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Mapping, TypeVar

import msgspec
from litestar.enums import RequestEncodingType
from litestar.params import Body

from pb.web.i18n import _

T = TypeVar("T", bound=msgspec.Struct)

Errors = dict[str, str]
# A page's POST body: an HTML form (repeated fields arrive as lists).
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _field_message(error: msgspec.ValidationError) -> str:
    text = str(error)
    if match := re.search(r"length >= (\d+)", text):
        return _("Fill this in.") if match.group(1) == "1" else _("Use at least %(n)s characters.", n=match.group(1))
    if match := re.search(r"length <= (\d+)", text):
        return _("Use at most %(n)s characters.", n=match.group(1))
    if match := re.search(r">= (-?\d+)", text):
        return _("Enter a number of at least %(n)s.", n=match.group(1))
    if match := re.search(r"<= (-?\d+)", text):
        return _("Enter a number of at most %(n)s.", n=match.group(1))
    if "Expected `int`" in text:
        return _("Enter a whole number.")
    if "match regex pattern" in text:
        return _("Enter a valid value.")
    return _("Enter a valid value.")


def check_struct(struct_type: type[T], values: Mapping[str, Any]) -> tuple[T | None, Errors]:
    """Convert ``values`` into ``struct_type``; on failure, one message per bad field."""
    errors: Errors = {}
    for field in msgspec.structs.fields(struct_type):
        if field.name not in values:
            if field.required:
                errors[field.name] = _("Fill this in.")
            continue
        try:
            msgspec.convert(values[field.name], field.type)
        except msgspec.ValidationError as error:
            errors[field.name] = _field_message(error)
    if errors:
        return None, errors
    return msgspec.convert(dict(values), struct_type), {}


def parse_amount(text: str, digits: int = 2) -> int | None:
    """Money typed by a person ("1234.50", "1 234,50", "1234") -> minor units; None if not money."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace("€", "")
    if not cleaned:
        return None
    if "," in cleaned and "." in cleaned:  # the last one is the decimal separator
        decimal_sep = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        cleaned = cleaned.replace("." if decimal_sep == "," else ",", "")
        cleaned = cleaned.replace(",", ".")
    elif "," in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value() or not minor.is_finite():
        return None
    return int(minor)


def amount_input(minor_units: int | None, digits: int = 2) -> str:
    """Minor units as a plain decimal for an input field (round-trips through parse_amount)."""
    if minor_units is None:
        return ""
    return f"{Decimal(minor_units).scaleb(-digits):f}"


def parse_int(text: str | None) -> int | None:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None
