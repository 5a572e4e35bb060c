"""The OpenAPI document explains the fields a newcomer could misread, and its request examples
are valid requests.

Kinds of fields that must carry a description: money (it is in minor units), times (UTC),
enumerations and codes (what each value means), exact figures ("n/d" fractions), digests.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

# money: a name that says amount, cost, spent, paid, planned or budget
MONEY = re.compile(r"(^|_)(amount|cost|spent|paid|planned)$")
# enumerations and codes: their values mean something that the name does not say
ENUM_NAMES = {"phase", "status", "kind", "ballot_format", "decision", "stage", "reason", "roles", "target",
              "tally_rule", "rule", "gateway", "token_type", "format", "currency"}
# exact figures and free-form objects whose keys a reader must be told
OPAQUE_NAMES = {"figures", "options", "tally_options", "content", "payload", "rules"}
DIGEST = re.compile(r"(^|_)(hash|digest|receipt)$")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from pb.app import create_app
    from pb.settings import load_settings

    folder: Path = tmp_path_factory.mktemp("openapi")
    # The schema needs no database: the engine is created but never connected.
    return create_app(load_settings({}, database_url=f"sqlite:///{folder / 'unused.sqlite'}",
                                    secrets_dir=folder / "secrets"))


@pytest.fixture(scope="module")
def components(app) -> dict:
    return app.openapi_schema.to_schema()["components"]["schemas"]


def _variants(schema: dict) -> list[dict]:
    return [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]


def kind_of(name: str, schema: dict) -> str | None:
    variants = _variants(schema)
    if any(v.get("format") == "date-time" for v in variants):
        return "time"
    if MONEY.search(name):
        return "money"
    if name in ENUM_NAMES or any("enum" in v for v in variants):
        return "enumeration"
    if name in OPAQUE_NAMES:
        return "object"
    if DIGEST.search(name):
        return "digest"
    return None


def test_every_field_of_a_misreadable_kind_has_a_description(components):
    missing = []
    checked = 0
    for component, schema in sorted(components.items()):
        for name, field in schema.get("properties", {}).items():
            kind = kind_of(name, field)
            if kind is None:
                continue
            checked += 1
            if not field.get("description"):
                missing.append(f"{component}.{name} ({kind})")
    assert checked >= 80  # the rule really looks at the document
    assert not missing, "fields without a description:\n" + "\n".join(missing)


def test_money_fields_say_minor_units_and_times_say_utc(components):
    wrong = []
    for component, schema in sorted(components.items()):
        for name, field in schema.get("properties", {}).items():
            kind, text = kind_of(name, field), field.get("description", "")
            if kind == "money" and "minor units" not in text:
                wrong.append(f"{component}.{name}: {text!r}")
            if kind == "time" and "UTC" not in text:
                wrong.append(f"{component}.{name}: {text!r}")
    assert not wrong, "\n".join(wrong)


def test_the_fraction_format_is_explained_where_results_carry_it(components):
    budget_result = next(schema for name, schema in components.items() if name.endswith("BudgetResultOut"))
    assert '"n/d"' in budget_result["properties"]["spent"]["description"]
    project_result = next(schema for name, schema in components.items() if name.endswith("ProjectResultOut"))
    assert '"n/d"' in project_result["properties"]["figures"]["description"]


def request_structs(app) -> dict[str, type]:
    """Every request body type: "METHOD path" -> msgspec Struct."""
    found = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is None:
                continue
            annotation = data.annotation
            if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
                for method in sorted(handler.http_methods):
                    found[f"{method} {route.path}"] = annotation
    return found


def example_from(schema: dict, definitions: dict) -> object:
    """A value built from the examples of a JSON schema (msgspec's), required fields only."""
    if "$ref" in schema:
        return example_from(definitions[schema["$ref"].rsplit("/", 1)[-1]], definitions)
    if "examples" in schema:
        return schema["examples"][0]
    for variant in schema.get("anyOf", []):
        if variant.get("type") != "null":
            return example_from(variant, definitions)
    if schema.get("type") == "object" and "properties" in schema:
        return {name: example_from(schema["properties"][name], definitions) for name in schema.get("required", [])}
    if schema.get("type") == "array":
        return [example_from(schema["items"], definitions)]
    raise AssertionError(f"no example for {schema}")


def test_every_request_body_field_has_an_example_and_the_examples_make_a_valid_request(app):
    structs = request_structs(app)
    assert len(structs) >= 15
    problems = []
    for route, struct in sorted(structs.items()):
        (schema,), definitions = msgspec.json.schema_components([struct], ref_template="#/$defs/{name}")
        try:
            example = example_from(schema, definitions)
            msgspec.convert(example, struct)
        except (AssertionError, msgspec.ValidationError) as problem:
            problems.append(f"{route} ({struct.__name__}): {problem}")
    assert not problems, "\n".join(problems)
