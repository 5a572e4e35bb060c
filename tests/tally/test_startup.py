"""``pb tally`` starts lean: the console script dispatches it before the web app's command
line, and the engine loads no module it does not need (start-up time is measured by
bench/tally_processes.py; these tests only pin what gets imported)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FILE = Path(__file__).parent / "data" / "add1" / "Netherlands_Assen_2024.pb"
# the web app's stack, and OpenSSL (only the lottery tie-breaker hashes)
HEAVY = ("click", "piccolo", "litestar", "msgspec", "jinja2", "structlog", "stripe", "uvicorn",
         "pb.cli", "pb.settings", "hashlib")
RUN = """
import json, sys
sys.argv = ["pb", *sys.argv[1:]]
from pb.console import main
try:
    main()
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "heavy": [m for m in %s if m in sys.modules]}), file=sys.stderr)
"""


def run_console(*argv: str, modules: tuple[str, ...] = HEAVY) -> tuple[dict, str]:
    """Run the console script; report its exit code and which of ``modules`` it imported."""
    done = subprocess.run([sys.executable, "-c", RUN % (modules,), *argv], capture_output=True, text=True,
                          timeout=120)
    return json.loads(done.stderr.strip().splitlines()[-1]), done.stdout


def test_pb_tally_imports_nothing_of_the_web_app():
    for rule in ("greedy", "mes:add1_greedy", "phragmen"):
        report, out = run_console("tally", str(FILE), "--rule", rule, "--no-progress")
        assert report == {"code": 0, "heavy": []}, rule
        assert "winners" in out


def test_other_commands_still_reach_the_app_command_line():
    report, out = run_console("--help")
    assert report["code"] == 0 and "pb.cli" in report["heavy"] and "click" in report["heavy"]
    assert "tally" in out and "serve" in out
