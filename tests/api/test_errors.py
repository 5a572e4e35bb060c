"""No request gives a 500: bad input is a 4xx problem+json naming the problem, nothing bad is stored,
every error carries a request id, and server errors are logged with a traceback but no personal data."""

from __future__ import annotations

import json
import logging

import pytest
from litestar import get

from tests.api.test_security import assert_problem
from tests.helpers import PASSWORD, create_organisation, sign_up_and_log_in
from tests.steps_rounds import create_round, round_body
from tests.steps_voting import import_census

pytestmark = [pytest.mark.anyio, pytest.mark.db]

JSON = {"content-type": "application/json"}


def pointers(response) -> list[str]:
    return [error["pointer"] for error in response.json()["errors"]]


async def test_nul_bytes_are_422_naming_the_field_and_nothing_is_stored(client):
    signup = await client.post("/api/auth/signup", json={"email": "nul@example.org", "password": PASSWORD,
                                                         "display_name": "Nu\x00l"})
    assert pointers(signup) == ["/display_name"] and "NUL" in assert_problem(signup, 422)["detail"]
    login = await client.post("/api/auth/login", json={"email": "nul\x00@example.org", "password": PASSWORD})
    assert pointers(login) == ["/email"]
    password = await client.post("/api/auth/login", json={"email": "nul@example.org", "password": "a\x00b"})
    assert pointers(password) == ["/password"]
    org, official = await create_organisation(client, "nul")
    title = await client.post(f"/api/orgs/{org}/rounds", json=round_body(title="Budget\x00"), headers=official)
    assert pointers(title) == ["/title"]
    budgets = round_body()
    budgets["budgets"][1]["district"] = "so\x00uth"
    assert pointers(await client.post(f"/api/orgs/{org}/rounds", json=budgets, headers=official)) \
        == ["/budgets/1/district"]
    census = await client.post(f"/api/orgs/{org}/census/import", content=b"identifier,district\nA\x001,north\n",
                               headers={**official, "Content-Type": "text/csv"})
    assert "NUL" in assert_problem(census, 422)["detail"]
    receipt = await client.get(f"/api/orgs/{org}/rounds/1/receipts/ab%00cd")
    assert_problem(receipt, 404)
    assert (await client.get(f"/api/orgs/{org}/staff/rounds", headers=official)).json() == []
    assert (await client.get(f"/api/orgs/{org}/census", headers=official)).json() == []


async def test_ids_beyond_the_column_range_are_404_or_422(client):
    org, official = await create_organisation(client, "range")
    for big in (2**31, 2**63, 10**30):
        assert_problem(await client.get(f"/api/orgs/{big}/rounds"), 404)
        assert_problem(await client.get(f"/api/orgs/{org}/rounds/{big}", headers=official), 404)
        assert_problem(await client.get(f"/api/orgs/{big}/members", headers=official), 404)
    world = await create_round(client, org, official)
    proposal = {"budget_id": 2**31, "title": "t", "summary": "s", "requested_amount": 1,
                "cost_lines": [{"label": "l", "amount": 1}], "co_proposers": [2**63]}
    response = await client.post(f"/api/orgs/{org}/rounds/{world['round_id']}/proposals", json=proposal,
                                 headers=official)
    assert set(pointers(response)) == {"/budget_id", "/co_proposers/0"}
    events = await client.get(f"/api/orgs/{org}/audit/events?after_seq={2**63}", headers=official)
    assert assert_problem(events, 422)["errors"][0]["parameter"] == "after_seq"


async def test_deep_or_huge_json_and_a_nul_in_a_static_path_are_client_errors(client):
    org, official = await create_organisation(client, "deep")
    deep_array = b"[" * 100_000 + b"]" * 100_000
    assert (await client.post("/api/auth/login", content=deep_array, headers=JSON)).status_code in (400, 422)
    deep_option = b'{"x":' * 1000 + b"1" + b"}" * 1000
    body = json.dumps(round_body(tally_options={"placeholder": 0})).replace('0}', deep_option.decode() + "}", 1)
    response = await client.post(f"/api/orgs/{org}/rounds", content=body, headers={**official, **JSON})
    assert response.status_code in (400, 422), response.text
    assert_problem(response, response.status_code)
    too_large = await client.post("/api/auth/login", content=b" " * 10_000_001, headers=JSON)
    assert "bytes at most" in assert_problem(too_large, 413)["detail"]
    assert_problem(await client.get("/static/%00pb.css"), 404)
    assert (await client.get("/static/pb.css")).status_code == 200


async def test_validation_errors_are_422_with_a_pointer_per_bad_field(client):
    """Every bad field is named, and an earlier request does not leave a stray 'org_id' error."""
    org, official = await create_organisation(client, "fields")
    for _ in range(2):
        body = round_body(title="", max_proposal_amount="100", unknown=1)
        body["budgets"][0]["amount"] = 1e3
        response = await client.post(f"/api/orgs/{org}/rounds", json=body, headers=official)
        problem = assert_problem(response, 422)
        assert set(pointers(response)) == {"/title", "/max_proposal_amount", "/unknown", "/budgets/0/amount"}
        assert "org_id" not in json.dumps(problem)
    missing = await client.post(f"/api/orgs/{org}/rounds", json={"title": "x"}, headers=official)
    assert "/max_proposal_amount" in pointers(missing)


async def test_lax_input_is_refused(client):
    org, official = await create_organisation(client, "strict")
    url = f"/api/orgs/{org}/rounds"
    for lax in ({"max_proposal_amount": "100"}, {"max_proposal_amount": 1e3}, {"max_proposal_amount": 12.0},
                {"voting_start": 0}, {"allow_revision": 0}, {"submission_end": "2027-01-01T00:00:00"}):
        response = await client.post(url, json=round_body(**lax), headers=official)
        assert pointers(response) == ["/" + next(iter(lax))], lax
    text = json.dumps(round_body())
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        response = await client.post(url, content=text, headers={**official, "content-type": content_type})
        assert "Content-Type: application/json" in assert_problem(response, 415)["detail"]
    with_charset = {**official, "content-type": "application/json; charset=utf-8"}
    assert (await client.post(url, content=text, headers=with_charset)).status_code == 201
    assert assert_problem(await client.post(url, headers={**official, **JSON}), 422)["errors"] == [
        {"detail": "A JSON body is required.", "pointer": ""}]
    assert_problem(await client.post(url, content=b"{not json", headers={**official, **JSON}), 400)


HIDDEN = [("nor\u202eth", "U+202E RIGHT-TO-LEFT OVERRIDE"), ("\x1b[31mred", "U+001B ESCAPE"),
          ("\u200b\u200b", "U+200B"), ("x\uffff", "U+FFFF"), ("   ", "no visible character"),
          ("two\nlines", "line break")]


async def test_invisible_and_control_characters_are_refused_in_words(client):
    org, official = await create_organisation(client, "hidden")
    for title, reason in HIDDEN:
        response = await client.post(f"/api/orgs/{org}/rounds", json=round_body(title=title), headers=official)
        assert reason in assert_problem(response, 422)["detail"] and pointers(response) == ["/title"], title
        if "\n" not in title:  # the same rule for a district in the census file
            csv = f"identifier,district\nA1,{title}\n".encode()
            census = await client.post(f"/api/orgs/{org}/census/import", content=csv,
                                       headers={**official, "Content-Type": "text/csv"})
            assert "line 2" in assert_problem(census, 422)["detail"], title
    assert (await client.get(f"/api/orgs/{org}/census", headers=official)).json() == []


async def test_names_are_normalised_so_one_district_is_one_district(client):
    org, official = await create_organisation(client, "nfc")
    decomposed, composed = "Rive\u0301ra", "Rivéra"
    body = round_body(title=f"  {decomposed} 2027 ")
    body["budgets"][0]["district"] = decomposed
    world = await create_round(client, org, official, **{k: v for k, v in body.items() if k in ("title", "budgets")})
    staff = (await client.get(f"/api/orgs/{org}/staff/rounds/{world['round_id']}", headers=official)).json()
    assert staff["title"] == f"{composed} 2027" and staff["budgets"][0]["district"] == composed
    await import_census(client, org, official, f"identifier,district\nA1,{decomposed}\nB2,{composed}\n")
    summary = (await client.get(f"/api/orgs/{org}/census", headers=official)).json()
    assert summary == [{"district": composed, "entries": 2, "bound": 0}]


async def test_every_response_carries_its_request_id(client):
    ok = await client.get("/api/orgs")
    refused = await client.get("/api/me")
    assert len({ok.headers["x-request-id"], refused.headers["x-request-id"]}) == 2
    assert assert_problem(refused, 401)["request_id"] == refused.headers["x-request-id"]


async def test_a_server_error_is_problem_json_logged_with_its_request_id_and_no_personal_data(app, client, caplog):
    """A bug is a 500 problem+json whose request id finds the logged traceback; the log holds no email,
    password, token or census identifier from anything that happened before."""

    email = "private.person@example.org"

    @get("/api/broken-on-purpose", opt={"public": True})
    async def broken() -> None:
        raise RuntimeError(f"cannot store {email}")  # a message quoting personal data, as database errors do

    app.register(broken)
    caplog.set_level(logging.INFO, logger="pb")
    await client.post("/api/auth/signup", json={"email": email, "password": PASSWORD, "display_name": "Private"})
    token = (await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})).json()
    await client.post("/api/auth/login", json={"email": email, "password": "wrong-password-77"})
    await client.post("/api/auth/refresh", json={"refresh_token": token["refresh_token"] + "x"})
    org, official = await create_organisation(client, "logs")
    await import_census(client, org, official, "identifier,district\nRESIDENT-4711,north\n")
    await client.post(f"/api/orgs/{org}/census/binding", json={"identifier": "RESIDENT-9999"},
                      headers={"Authorization": f"Bearer {token['access_token']}"})

    response = await client.get("/api/broken-on-purpose")
    problem = assert_problem(response, 500)
    assert set(problem) == {"type", "title", "status", "detail", "request_id"}
    logged = [json.loads(record.getMessage()) for record in caplog.records if record.name.startswith("pb")]
    errors = [entry for entry in logged if entry["event"] == "server_error"]
    assert len(errors) == 1 and errors[0]["request_id"] == problem["request_id"]
    assert errors[0]["exception"][0]["type"] == "builtins.RuntimeError"
    assert any("in broken" in frame for frame in errors[0]["exception"][0]["frames"])
    assert any(entry["event"] == "request_refused" and entry["status"] == 401 for entry in logged)
    everything = caplog.text
    for private in (email, PASSWORD, "wrong-password-77", token["access_token"], token["refresh_token"],
                    "RESIDENT-4711", "RESIDENT-9999"):
        assert private not in everything, private
