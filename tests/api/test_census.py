"""Census over HTTP: CSV import (all or nothing, lines named), HMAC-only storage, binding one entry per account."""

from __future__ import annotations

import pytest

from pb.accounts.domain import AUDITOR, OFFICIAL
from tests.helpers import create_organisation, member_with_roles
from tests.steps_voting import CENSUS_CSV, bind, import_census

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def test_import_reports_counts_and_skips_duplicates(client):
    org, official = await create_organisation(client, "csv")
    report = await import_census(client, org, official, "identifier,district\nA1,north\nb2,south\nA 1,north\n")
    assert report == {"lines": 3, "imported": 2, "duplicates_skipped": 1}
    again = await import_census(client, org, official, "district,identifier\nnorth,a1\nsouth,C3\n")
    assert again == {"lines": 2, "imported": 1, "duplicates_skipped": 1}
    summary = (await client.get(f"/api/orgs/{org}/census", headers=official)).json()
    assert summary == [{"district": "north", "entries": 1, "bound": 0}, {"district": "south", "entries": 2, "bound": 0}]


async def test_raw_identifiers_are_never_stored(client):
    from pb.voting.tables import CensusEntry

    org, official = await create_organisation(client, "hmac")
    await import_census(client, org, official, "identifier,district\nSECRET-ID-123,north\n")
    rows = await CensusEntry.select().where(CensusEntry.organisation_id == org)
    assert len(rows) == 1
    assert all("SECRET" not in str(value) for value in rows[0].values())
    assert len(rows[0]["identifier_hmac"]) == 64


async def test_eligible_counts_per_district(client):
    from pb.voting.repo import eligible_counts

    org, official = await create_organisation(client, "counts")
    await import_census(client, org, official, CENSUS_CSV)
    other, other_official = await create_organisation(client, "counts-other")
    await import_census(client, other, other_official, "identifier,district\nX,north\n")
    assert await eligible_counts(org) == {"north": 3, "south": 2}
    assert await eligible_counts(other) == {"north": 1}


@pytest.mark.parametrize("body, line, words", [
    ("identifier,district\nA1,north\nB2\nC3,south\n", 3, "expected 2 fields"),
    ("identifier,district\nA1,north\n,south\n", 3, "identifier is empty"),
    ("identifier,district\nA1,north\nB2,  \n", 3, "district is empty"),
    ("name,place\nA1,north\n", 1, "header"),
    ("identifier,district\nA1,north\n\"B2,south\n", 3, "malformed CSV"),
])
async def test_bad_csv_is_422_naming_the_line_and_stores_nothing(client, body, line, words):
    org, official = await create_organisation(client, "bad")
    response = await client.post(f"/api/orgs/{org}/census/import", content=body.encode(),
                                 headers={**official, "Content-Type": "text/csv"})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert f"line {line}" in problem["detail"] and words in problem["detail"]
    assert problem["code"] == "census_csv_rejected"
    assert problem["rejected"][0]["line"] == line
    assert (await client.get(f"/api/orgs/{org}/census", headers=official)).json() == []


async def test_every_rejected_line_is_listed(client):
    org, official = await create_organisation(client, "many")
    response = await client.post(f"/api/orgs/{org}/census/import", content=b"identifier,district\n,a\nok,b\nx\n",
                                 headers={**official, "Content-Type": "text/csv"})
    assert response.status_code == 422
    assert [r["line"] for r in response.json()["rejected"]] == [2, 4]


async def test_non_utf8_file_is_422_with_its_line(client):
    org, official = await create_organisation(client, "latin")
    body = "identifier,district\nA1,north\nB2,Zürich\n".encode("latin-1")
    response = await client.post(f"/api/orgs/{org}/census/import", content=body,
                                 headers={**official, "Content-Type": "text/csv"})
    assert response.status_code == 422
    assert response.json()["rejected"] == [{"line": 3, "reason": "the file is not valid UTF-8 text"}]


async def test_only_officials_import_and_auditors_read(client):
    org, official = await create_organisation(client, "roles")
    _, citizen = await member_with_roles(client, org, official)
    _, auditor = await member_with_roles(client, org, official, AUDITOR)
    for headers in (citizen, auditor):
        response = await client.post(f"/api/orgs/{org}/census/import", content=CENSUS_CSV.encode(),
                                     headers={**headers, "Content-Type": "text/csv"})
        assert response.status_code == 403
    assert (await client.get(f"/api/orgs/{org}/census", headers=citizen)).status_code == 403
    assert (await client.get(f"/api/orgs/{org}/census", headers=auditor)).status_code == 200


async def test_import_is_audited_without_personal_data(client):
    org, official = await create_organisation(client, "audit")
    await import_census(client, org, official, "identifier,district\nPERSONAL-9,north\n")
    events = (await client.get(f"/api/orgs/{org}/audit/events", headers=official)).json()
    imported = [e for e in events if e["action"] == "census.imported"]
    assert len(imported) == 1 and "PERSONAL" not in str(imported[0])


async def test_binding_one_entry_one_account(client):
    org, official = await create_organisation(client, "bind")
    await import_census(client, org, official, CENSUS_CSV)
    _, ada = await member_with_roles(client, org, official)
    _, bob = await member_with_roles(client, org, official)
    assert (await client.get(f"/api/orgs/{org}/census/binding", headers=ada)).status_code == 404
    response = await bind(client, org, ada, "n-1 ")  # spacing and case do not matter
    assert response.status_code == 200 and response.json() == {"district": "north"}
    assert (await client.get(f"/api/orgs/{org}/census/binding", headers=ada)).json() == {"district": "north"}
    assert (await bind(client, org, ada, "N-1")).status_code == 200  # the same entry again: no change
    taken = await bind(client, org, bob, "N-1")
    assert taken.status_code == 409 and taken.json()["code"] == "census_entry_taken"
    second = await bind(client, org, ada, "S-1")
    assert second.status_code == 409 and second.json()["code"] == "account_already_bound"
    unknown = await bind(client, org, bob, "NOPE")
    assert unknown.status_code == 404 and unknown.json()["code"] == "census_entry_not_found"
    summary = (await client.get(f"/api/orgs/{org}/census", headers=official)).json()
    assert {"district": "north", "entries": 3, "bound": 1} in summary


async def test_concurrent_binding_of_one_entry_binds_one_account(client):
    import asyncio

    org, official = await create_organisation(client, "race")
    await import_census(client, org, official, CENSUS_CSV)
    members = [await member_with_roles(client, org, official) for _ in range(6)]
    responses = await asyncio.gather(*(bind(client, org, headers, "N-2") for _, headers in members))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 5
    summary = (await client.get(f"/api/orgs/{org}/census", headers=official)).json()
    assert {"district": "north", "entries": 3, "bound": 1} in summary


async def test_binding_is_rate_limited(client, app):
    org, official = await create_organisation(client, "limit")
    await import_census(client, org, official, CENSUS_CSV)
    _, guesser = await member_with_roles(client, org, official)
    app.state.rate_limiter.per_address = 3
    codes = [(await bind(client, org, guesser, f"GUESS-{n}")).status_code for n in range(5)]
    assert codes == [404, 404, 404, 429, 429]


async def test_binding_in_another_organisation_is_refused(client):
    org, official = await create_organisation(client, "home")
    await import_census(client, org, official, CENSUS_CSV)
    other, other_official = await create_organisation(client, "away")
    _, outsider = await member_with_roles(client, other, other_official)
    assert (await bind(client, org, outsider, "N-1")).status_code == 403
    assert (await bind(client, other, outsider, "N-1")).status_code == 404


async def test_one_account_binding_two_entries_at_once_gets_one(client):
    import asyncio

    org, official = await create_organisation(client, "greedy")
    await import_census(client, org, official, CENSUS_CSV)
    _, member = await member_with_roles(client, org, official)
    responses = await asyncio.gather(*(bind(client, org, member, identifier) for identifier in ("N-1", "N-2", "S-1")))
    assert sorted(r.status_code for r in responses) == [200, 409, 409]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"account_already_bound"}
    summary = (await client.get(f"/api/orgs/{org}/census", headers=official)).json()
    assert sum(row["bound"] for row in summary) == 1
