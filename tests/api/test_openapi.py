"""The OpenAPI document and its browsable pages: every route documented, bearer auth declared."""

from __future__ import annotations

import re

import pytest
from litestar.testing import TestClient

from pb.app import BEARER_SCHEME, create_app
from pb.settings import load_settings
from tests.steps_routes import api_operations


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("openapi")
    return create_app(load_settings({}, database_url=f"sqlite:///{folder / 'pb.sqlite'}", secrets_dir=folder))


@pytest.fixture(scope="module")
def openapi(app) -> dict:
    with TestClient(app) as client:
        response = client.get("/schema/openapi.json")
        assert response.status_code == 200
        return response.json()


def _openapi_path(litestar_path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", litestar_path)


def test_the_main_paths_are_listed(openapi):
    for path in ["/api/auth/signup", "/api/auth/login", "/api/auth/refresh", "/api/me", "/api/orgs",
                 "/api/orgs/{org_id}/members", "/api/orgs/{org_id}/audit/events", "/api/orgs/{org_id}/audit/verify"]:
        assert path in openapi["paths"], path


def test_every_api_route_is_documented_with_tags_and_a_summary(app, openapi):
    operations = [op for op in api_operations(app) if op.path.startswith("/api/")]
    assert operations
    for operation in operations:
        documented = openapi["paths"][_openapi_path(operation.path)][operation.method.lower()]
        assert documented.get("tags"), f"{operation.method} {operation.path} has no tags"
        assert documented.get("summary"), f"{operation.method} {operation.path} has no summary"


def test_bearer_security_is_declared_and_required_except_on_public_routes(app, openapi):
    scheme = openapi["components"]["securitySchemes"][BEARER_SCHEME]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer" and scheme["bearerFormat"] == "JWT"
    for operation in api_operations(app):
        if not operation.path.startswith("/api/"):
            continue
        documented = openapi["paths"][_openapi_path(operation.path)][operation.method.lower()]
        expected = None if operation.public else [{BEARER_SCHEME: []}]
        assert documented.get("security") == expected, f"{operation.method} {operation.path}"


def test_the_browsable_docs_pages_load_without_a_token(app):
    with TestClient(app) as client:
        for page in ["/schema/swagger", "/schema/scalar"]:
            response = client.get(page)
            assert response.status_code == 200, page
            assert response.headers["content-type"].startswith("text/html")
            assert "<title>pb — participatory budgeting and micro-grants</title>" in response.text


def test_every_operation_documents_its_error_statuses_as_problem_json(app, openapi):
    problem = openapi["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "request_id"} <= set(problem["required"])
    for operation in api_operations(app):
        if not operation.path.startswith("/api/"):
            continue
        documented = openapi["paths"][_openapi_path(operation.path)][operation.method.lower()]
        errors = {int(status): response for status, response in documented["responses"].items() if int(status) >= 400}
        expected = set()
        if documented.get("requestBody", {}).get("content", {}).get("application/json"):
            expected |= {400, 413, 415, 422}
        if not operation.public:
            expected |= {401, 404}
        if "{" in operation.path:
            expected |= {404, 422}
        assert expected <= set(errors), f"{operation.method} {operation.path}: {sorted(errors)}"
        for status, response in errors.items():
            content = response["content"]
            assert list(content) == ["application/problem+json"], f"{operation.method} {operation.path} {status}"
            assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_rate_limited_and_guarded_operations_document_429_and_403(openapi):
    login = openapi["paths"]["/api/auth/login"]["post"]["responses"]
    assert {"401", "429"} <= set(login) and "403" not in login
    members = openapi["paths"]["/api/orgs/{org_id}/members"]["get"]["responses"]
    assert {"401", "403", "404"} <= set(members) and "429" not in members
