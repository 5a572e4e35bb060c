"""The `pb` command line: each command calls its service and reports in words and exit codes."""

from __future__ import annotations

import asyncio
import json
import sys
import types

import pytest
from click.testing import CliRunner

from pb.cli import main


def run(database_url: str, secrets_dir, *args: str):
    env = {"PB_DATABASE_URL": database_url, "PB_SECRETS_DIR": str(secrets_dir)}
    return CliRunner().invoke(main, list(args), env=env)


async def _insert_user(database_url: str, email: str) -> int:
    from pb import db
    from pb.accounts import repo

    db.bind_engine(db.make_engine(database_url))
    async with db.write_transaction():
        return await repo.insert_user(email, "Someone", "not-a-login-hash")


async def _organisation_slugs(database_url: str) -> list[str]:
    from pb import db
    from pb.accounts import repo

    db.bind_engine(db.make_engine(database_url))
    return [o.slug for o in await repo.list_organisations()]


def test_migrate_builds_a_fresh_sqlite_database_then_has_nothing_left_to_do(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    first = run(url, tmp_path / "secrets", "migrate")
    assert first.exit_code == 0, first.output
    assert "migrations applied (SQLite)" in first.output
    assert asyncio.run(_organisation_slugs(url)) == []
    again = run(url, tmp_path / "secrets", "migrate")
    assert again.exit_code == 0 and "No migrations need to be run" in again.output


@pytest.mark.db
def test_migrate_is_idempotent_on_each_engine(database_url, secrets_dir):
    result = run(database_url, secrets_dir, "migrate")
    assert result.exit_code == 0, result.output
    engine = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    assert f"migrations applied ({engine})" in result.output


@pytest.mark.db
def test_org_create_makes_the_account_its_first_official(database_url, secrets_dir):
    asyncio.run(_insert_user(database_url, "mayor@example.org"))
    result = run(database_url, secrets_dir, "org", "create", "Town of Example", "example",
                 "--official-email", "mayor@example.org")
    assert result.exit_code == 0, result.output
    assert "created: Town of Example (example)" in result.output
    assert asyncio.run(_organisation_slugs(database_url)) == ["example"]
    again = run(database_url, secrets_dir, "org", "create", "Again", "example", "--official-email", "mayor@example.org")
    assert again.exit_code == 1 and "already exists" in again.output


@pytest.mark.db
def test_org_create_needs_an_existing_account(database_url, secrets_dir):
    result = run(database_url, secrets_dir, "org", "create", "Nowhere", "nowhere", "--official-email", "x@example.org")
    assert result.exit_code == 1
    assert "No account with the email 'x@example.org'" in result.output
    assert asyncio.run(_organisation_slugs(database_url)) == []


def test_keys_rotate_adds_a_signing_key_and_keeps_the_old_one(tmp_path):
    from pb.core.keyring import KEYRING_FILE, load_keyring

    secrets = tmp_path / "secrets"
    old = load_keyring(secrets).current.kid
    result = run("sqlite:///unused.sqlite", secrets, "keys", "rotate")
    assert result.exit_code == 0, result.output
    kids = [entry["kid"] for entry in json.loads((secrets / KEYRING_FILE).read_text())]
    assert len(kids) == 2 and kids[0] == old
    assert f"new signing key {kids[1]}" in result.output
    assert (secrets / KEYRING_FILE).stat().st_mode & 0o077 == 0


def test_tally_forwards_every_argument_and_the_exit_code(monkeypatch, tmp_path):
    received: list[list[str]] = []

    def fake_tally_main(argv: list[str]) -> int:
        received.append(argv)
        return 3

    monkeypatch.setitem(sys.modules, "pb.tally.cli", types.SimpleNamespace(main=fake_tally_main))
    result = run("sqlite:///unused.sqlite", tmp_path, "tally", "election.pb", "--rule", "mes", "--help", "-v")
    assert received == [["election.pb", "--rule", "mes", "--help", "-v"]]
    assert result.exit_code == 3
