"""Developer tool: regenerate the initial schema migration from the current tables.

Until pb has a release, the schema lives in ONE auto-generated migration (``pb_0001_initial``)
plus hand-written ones after it. ``python -m pb.devtools regenerate-initial`` rebuilds the first
from the Table classes (under a file lock, so parallel runs cannot leave two). After the first
release, add new migrations with ``piccolo migrations new pb --auto`` instead.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
INITIAL = MIGRATIONS / "pb_0001_initial.py"
INITIAL_ID = "2026-11-01T00:00:00:000000"


def regenerate_initial() -> Path:
    env = {**os.environ, "PICCOLO_CONF": "pb.piccolo_conf", "PB_DATABASE_URL": "sqlite:////tmp/pb-devtools.sqlite"}
    with open(MIGRATIONS / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        INITIAL.unlink(missing_ok=True)
        before = set(MIGRATIONS.glob("pb_*.py"))
        subprocess.run([sys.executable, "-m", "piccolo.main", "migrations", "new", "pb", "--auto"],
                       check=True, env=env, capture_output=True, text=True)
        created = sorted(set(MIGRATIONS.glob("pb_*.py")) - before)
        if len(created) != 1:
            raise SystemExit(f"expected one new migration file, got {created}")
        text = created[0].read_text()
        generated_id = text.split('ID = "', 1)[1].split('"', 1)[0]
        INITIAL.write_text(text.replace(generated_id, INITIAL_ID))
        created[0].unlink()
    return INITIAL


if __name__ == "__main__":
    if sys.argv[1:] != ["regenerate-initial"]:
        raise SystemExit("usage: python -m pb.devtools regenerate-initial")
    print(regenerate_initial())
