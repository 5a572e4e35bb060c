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
    return CliRunner().invoke(main, list(args), env=env, prog_name="pb")


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
    result = run("sqlite:///unused.sqlite", tmp_path, "tally", "election.pb", "--rule", "mes", "-v")
    assert received == [["election.pb", "--rule", "mes", "-v"]]
    assert result.exit_code == 3


def test_tally_help_is_laid_out_like_every_other_command(tmp_path):
    tally_help = run("sqlite:///unused.sqlite", tmp_path, "tally", "--help")
    migrate_help = run("sqlite:///unused.sqlite", tmp_path, "migrate", "--help")
    assert tally_help.exit_code == 0 == migrate_help.exit_code
    assert tally_help.output.startswith("Usage: pb tally [OPTIONS] FILE\n")
    assert migrate_help.output.startswith("Usage: pb migrate [OPTIONS]\n")
    assert "\nOptions:\n" in tally_help.output and "\nOptions:\n" in migrate_help.output
    assert "--rule RULE" in tally_help.output and "--satisfaction [cost|cardinality|points]" in tally_help.output


def test_version():
    import pb

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output == f"pb {pb.__version__}\n"


# --- commands against a database that is not there or not migrated ------------------------------

DATABASE_COMMANDS = [
    ["audit", "verify"],
    ["org", "create", "Town", "town", "--official-email", "mayor@example.org"],
    ["serve", "--port", "8299"],
]


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=lambda c: c[0])
def test_a_missing_sqlite_database_is_named_with_the_fix_and_not_created(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, command, env={"PB_DATABASE_URL": None, "PB_SECRETS_DIR": None})
    assert_one_line_error(result, f"No database at {tmp_path / 'var' / 'pb.sqlite'}", "pb migrate")
    assert list(tmp_path.iterdir()) == []  # no empty ./var/pb.sqlite, no folder


@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=lambda c: c[0])
def test_an_unmigrated_sqlite_database_says_run_pb_migrate(tmp_path, command):
    (tmp_path / "empty.sqlite").touch()
    result = run(f"sqlite:///{tmp_path / 'empty.sqlite'}", tmp_path / "secrets", *command)
    assert_one_line_error(result, "is empty (never migrated): run `pb migrate` first")


def test_a_database_behind_on_migrations_says_how_many(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    assert run(url, tmp_path / "secrets", "migrate").exit_code == 0

    async def forget_last_migration() -> None:
        from piccolo.apps.migrations.tables import Migration

        from pb import db

        db.bind_engine(db.make_engine(url))
        last = await Migration.select(Migration.id).order_by(Migration.id, ascending=False).first()
        await Migration.delete().where(Migration.id == last["id"])

    asyncio.run(forget_last_migration())
    assert_one_line_error(run(url, tmp_path / "secrets", "audit", "verify"), "is 1 migration(s) behind",
                          "run `pb migrate` first")


def test_an_unreachable_postgresql_is_one_line_without_the_password(tmp_path):
    url = "postgresql://pb:s3cret@127.0.0.1:1/pb"  # nothing listens on port 1
    result = run(url, tmp_path / "secrets", "audit", "verify")
    assert_one_line_error(result, "Cannot connect to the database postgresql://pb:***@127.0.0.1:1/pb")
    assert "s3cret" not in result.output


def test_demo_host_and_port_need_serve(tmp_path):
    result = run(f"sqlite:///{tmp_path / 'demo.sqlite'}", tmp_path / "secrets", "demo", "--port", "8299")
    assert result.exit_code == 2 and "--host and --port go with --serve" in result.output
    assert not (tmp_path / "demo.sqlite").exists()


def test_public_url_follows_the_served_port_unless_configured():
    from pb.settings import load_settings

    derived = load_settings({})
    assert derived.public_url == f"http://{derived.host}:{derived.port}"
    assert derived.serving_at("0.0.0.0", 8101).public_url == "http://0.0.0.0:8101"
    configured = load_settings({"PB_SERVER_PUBLIC_URL": "https://pb.example.org"})
    assert configured.serving_at("0.0.0.0", 8101).public_url == "https://pb.example.org"
    assert load_settings({}, public_url="http://testserver").serving_at("h", 1).public_url == "http://testserver"
