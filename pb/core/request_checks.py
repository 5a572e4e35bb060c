"""What every request must satisfy before a handler sees it.

- ``path_values_are_sane`` (an app-wide guard, so it runs before the role guards read ``org_id``):
  a number in the path that cannot be a row id (beyond 32 bits) or a path value holding a control
  character names nothing, so the answer is 404 instead of a database error.
- ``strict_json_body`` (the app's ``before_request`` hook, so it runs after the guards: a stranger
  learns 401/403 before anything about the body): a JSON route takes only a JSON content type
  (else 415), and its body is decoded strictly into the handler's input Struct. ``"100"``, ``1e3``
  or ``12.0`` is not an integer, ``0`` is not a date or a boolean. A failure is 422 naming each bad
  field with a JSON pointer; unreadable JSON (or JSON nested too deeply to read) is 400.
"""

from __future__ import annotations

import unicodedata
from typing import Any, get_args

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.handlers.base import BaseRouteHandler

from pb.core.errors import Invalid, MalformedRequest, NotFound, UnsupportedMediaType
from pb.core.inputs import MAX_ID, checked_field
from pb.core.problems import FieldProblem, field_problem
from pb.core.text import TextProblem

JSON_MEDIA_TYPE = "application/json"


_THINGS = {"org_id": "organisation", "file_path": "file", "user_id": "user"}


def _names_nothing(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not 0 <= value <= MAX_ID
    return any(unicodedata.category(character) == "Cc" for character in str(value))


async def path_values_are_sane(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """App-wide guard. ``async`` although it does no I/O: Litestar runs a plain function guard in a
    thread pool, a hand-off every request would pay."""
    for name, value in connection.path_params.items():
        if _names_nothing(value):
            thing = _THINGS.get(name, name.removesuffix("_id").replace("_", " "))
            raise NotFound(f"There is no {thing} with that {'id' if name.endswith('_id') else 'name'}.")


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == JSON_MEDIA_TYPE or (media_type.startswith("application/") and media_type.endswith("+json"))


def _malformed(error: msgspec.DecodeError) -> MalformedRequest:
    return MalformedRequest(f"The request body is not valid JSON ({error}).", code="malformed_json")


def _refuse(problems: list[FieldProblem]) -> Invalid:
    named = "; ".join(f"{p.pointer or '/'}: {p.detail.rstrip('.')}" for p in problems)
    return Invalid(f"The request body is not valid. {named}.", code="invalid_body",
                   extra={"errors": [msgspec.to_builtins(p) for p in problems]})


def _each_field_problem(body: bytes, annotation: Any) -> list[FieldProblem]:
    """A problem for every bad top-level field (msgspec stops at the first); [] if it cannot tell."""
    struct_type = next((t for t in (annotation, *get_args(annotation))
                        if isinstance(t, type) and issubclass(t, msgspec.Struct)), None)
    try:
        document = msgspec.json.decode(body)
    except RecursionError:
        return []
    except msgspec.DecodeError as error:  # the typed decode stopped at a wrong type before the broken part
        raise _malformed(error) from None
    if struct_type is None or not isinstance(document, dict):
        return []
    fields = {field.encode_name: field for field in msgspec.structs.fields(struct_type)}
    problems = [FieldProblem("Unknown field; remove it.", pointer=f"/{key}") for key in document if key not in fields]
    for key, field in fields.items():
        if key not in document:
            if field.required:
                problems.append(FieldProblem("This field is required.", pointer=f"/{key}"))
            continue
        try:
            checked_field(struct_type, field.name, msgspec.convert(document[key], field.type, strict=True))
        except msgspec.ValidationError as error:
            problems.append(field_problem(error, prefix=f"/{key}"))
        except TextProblem as error:
            problems.append(field_problem(error))
    return problems


def _takes_a_form(data: Any) -> bool:
    """A page's form post or upload (declared with Body(media_type=...)) is read by the page layer."""
    media_type = getattr(data.kwarg_definition, "media_type", RequestEncodingType.JSON)
    return media_type != RequestEncodingType.JSON


async def strict_json_body(request: Request) -> None:
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None or _takes_a_form(data):
        return None
    body = await request.body()
    if not body.strip():
        if data.is_optional:
            return None
        raise _refuse([FieldProblem("A JSON body is required.", pointer="")])
    if not _is_json(request.headers.get("content-type", "")):
        raise UnsupportedMediaType(f"This route takes a JSON body: send 'Content-Type: {JSON_MEDIA_TYPE}'.")
    try:
        msgspec.json.decode(body, type=data.annotation, strict=True)
    except msgspec.ValidationError as error:  # a subclass of DecodeError: first
        raise _refuse(_each_field_problem(body, data.annotation) or [field_problem(error)]) from None
    except msgspec.DecodeError as error:
        raise _malformed(error) from None
    except RecursionError:
        raise MalformedRequest("The request body is nested too deeply to read.", code="malformed_json") from None
    return None
