"""The home page: plain HTML that links the API docs and lists each organisation's rounds."""

from __future__ import annotations

import pytest

from pb import demo

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def test_home_without_organisations_says_how_to_start(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'href="/schema/swagger"' in response.text
    assert "pb demo" in response.text


async def test_home_lists_the_demo_rounds_with_their_phase_and_results_link(client, settings):
    report = await demo.ensure_demo(settings.with_overrides(demo_voters=12))
    response = await client.get("/")
    assert response.status_code == 200
    page = response.text
    assert demo.DEMO_CITY in page
    assert "Riverton decides 2025" in page and "Riverton decides 2026" in page
    assert "<td>funding</td>" in page and "<td>voting</td>" in page
    results_link = f'href="/api/orgs/{report.organisation_id}/rounds/1/results"'
    assert results_link in page
    assert page.count("/results\"") == 1  # only the published round links its results
