"""Done means: the demo's 2025 round exports with `pb record export` and verifies with `pb verify`
in a fresh process that has no database."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

pytestmark = [pytest.mark.db]


def test_the_demo_2025_round_exports_and_verifies_in_a_fresh_process(database_url, secrets_dir, tmp_path):
    from pb.cli import main

    env = {"PB_DATABASE_URL": database_url, "PB_SECRETS_DIR": str(secrets_dir), "PB_DEMO_VOTERS": "24"}
    built = CliRunner().invoke(main, ["demo"], env=env)
    assert built.exit_code == 0, built.output
    organisation = re.search(r"\(organisation (\d+)\)", built.output).group(1)
    round_id = re.search(r"round (\d+) 'Riverton decides 2025'", built.output).group(1)
    path = tmp_path / "riverton-2025.zip"
    exported = CliRunner().invoke(main, ["record", "export", organisation, round_id, "-o", str(path)], env=env)
    assert exported.exit_code == 0, exported.output
    bare = {key: value for key, value in os.environ.items() if not key.startswith("PB_")}
    done = subprocess.run([sys.executable, "-m", "pb.record.verify", str(path)], env=bare, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: the record verifies." in done.stdout and "recomputed identically" in done.stdout
    early = CliRunner().invoke(main, ["record", "export", organisation, str(int(round_id) + 1)], env=env)
    assert early.exit_code != 0 and "published" in early.output  # the 2026 round is still voting
