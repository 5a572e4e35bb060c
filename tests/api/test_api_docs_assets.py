"""The API docs pages load only pb's own, pinned copies of Swagger UI and Scalar: every vendored
file matches its SHA256SUMS line, and the pages name no other host."""

from __future__ import annotations

import hashlib
import re

import pytest

from pb.resources import FRONTEND

VENDOR = FRONTEND / "static" / "vendor"
DOCS_PACKAGES = ["swagger-ui-dist", "scalar-api-reference"]


@pytest.mark.parametrize("package", DOCS_PACKAGES)
def test_vendored_files_match_their_checksums_and_name_their_version(package):
    folder = VENDOR / package
    listed = {}
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name] = digest
    assert listed, "empty SHA256SUMS"
    for name, digest in listed.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    on_disk = {path.name for path in folder.iterdir()} - {"SHA256SUMS", "VERSION"}
    assert on_disk == set(listed), "every vendored file is listed, and nothing else is there"
    version = dict(line.split(": ", 1) for line in (folder / "VERSION").read_text().splitlines())
    assert re.fullmatch(r"\d+\.\d+\.\d+", version["version"]) and version["licence"]


@pytest.mark.db
@pytest.mark.anyio
@pytest.mark.parametrize("page", ["/schema/swagger", "/schema/scalar", "/schema"])
async def test_docs_pages_load_assets_from_this_server_only(client, page):
    response = await client.get(page)
    assert response.status_code == 200
    sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", response.text)
    assert sources, response.text
    assert all(source.startswith("/") for source in sources), sources
    for source in sources:
        if source.startswith("/static/"):
            assert (await client.get(source)).status_code == 200, source
