"""``pb tally`` starts lean: the console script dispatches it before the web app's command
line, and the engine loads no module it does not need (start-up time is measured by
bench/tally_processes.py; these tests only pin what gets imported)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

FILE = Path(__file__).parent / "data" / "add1" / "Netherlands_Assen_2024.pb"
# the web app's stack, and OpenSSL (only the lottery tie-breaker hashes)
HEAVY = ("click", "piccolo", "litestar", "msgspec", "jinja2", "structlog", "stripe", "uvicorn",
         "pb.cli", "pb.settings", "hashlib")
RUN = """
import os, sys
sys.argv = ["pb", *sys.argv[1:]]
from pb.console import main
def exit_here(code):  # pb tally ends by os._exit: report the modules first
    raise SystemExit(code)
os._exit = exit_here
try:
    main()
except SystemExit as exit:
    code = exit.code
print(repr({"code": code, "heavy": [m for m in %r if m in sys.modules]}), file=sys.stderr)
"""


def run_console(*argv: str, modules: tuple[str, ...] = HEAVY) -> tuple[dict, str]:
    """Run the console script; report its exit code and which of ``modules`` it imported."""
    done = subprocess.run([sys.executable, "-c", RUN % (modules,), *argv], capture_output=True, text=True,
                          timeout=120)
    return ast.literal_eval(done.stderr.strip().splitlines()[-1]), done.stdout


def test_pb_tally_imports_nothing_of_the_web_app():
    for rule in ("greedy", "mes:add1_greedy", "phragmen"):
        report, out = run_console("tally", str(FILE), "--rule", rule, "--no-progress")
        assert report == {"code": 0, "heavy": []}, rule
        assert "winners" in out


def test_other_commands_still_reach_the_app_command_line():
    report, out = run_console("--help")
    assert report["code"] == 0 and "pb.cli" in report["heavy"] and "click" in report["heavy"]
    assert "tally" in out and "serve" in out


SMALL = Path(__file__).parent / "data" / "pabulib" / "Poland_Warszawa_2019_Kamionek.pb"
# what a small tally does without: the start-up work measured in bench/README.md
# ("tally_processes.py"): dataclasses and typing (the model and records are plain
# classes), argparse (plain command lines are read by quick_parse), json (pb.tally.jsontext
# writes a small electorate's --json document), threading (--no-progress), csv (the reader
# splits plain files), numpy and gmpy2 (the small-electorate path), fractions with the re,
# enum, functools, decimal and numbers it imports (the small path computes with
# pb.tally.rational, the reader finds VOTES without re and reads decimals by hand),
# collections (a small file's votes are counted by a dict loop), and the rules not asked for
LEAN = ("dataclasses", "inspect", "typing", "argparse", "json", "threading", "csv", "numpy", "gmpy2",
        "fractions", "decimal", "numbers", "re", "enum", "functools", "collections",
        "pb.tally.rules.maxwelfare")


def test_a_small_tally_imports_only_what_it_needs():
    for rule, not_needed in (("greedy", ("pb.tally.rules.mes", "pb.tally.rules.phragmen", "pb.tally.completion")),
                             ("mes", ("pb.tally.rules.greedy", "pb.tally.rules.phragmen")),
                             ("phragmen", ("pb.tally.rules.greedy", "pb.tally.rules.mes", "pb.tally.completion"))):
        report, out = run_console("tally", str(SMALL), "--rule", rule, "--no-progress", modules=LEAN + not_needed)
        assert report == {"code": 0, "heavy": []}, rule
        assert "winners" in out
        report, out = run_console("tally", str(SMALL), "--rule", rule, "--json", "--no-progress",
                                  modules=LEAN + not_needed)
        assert report == {"code": 0, "heavy": []}, rule
        assert json.loads(out)["results"][0]["winners"]


def test_the_console_script_flushes_its_output_and_exit_status():
    """``pb tally`` ends by ``os._exit`` (no interpreter teardown): the whole output still
    arrives and the exit status is the tally's."""
    console = [sys.executable, "-c", "from pb.console import main; main()", "tally"]
    done = subprocess.run([*console, str(FILE), "--rule", "mes", "--json", "--no-progress"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and json.loads(done.stdout)["results"][0]["winners"]
    done = subprocess.run([*console, str(FILE) + ".missing", "--rule", "mes", "--no-progress"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "cannot read" in done.stderr


def test_the_installed_pb_command_starts_without_re():
    """The ``pb`` command of this environment is our script (pb/scripts/pb, installed by pip
    from pyproject.toml's shared-scripts), not pip's entry-point launcher, which imports
    ``re`` before anything of ours; run as a user runs it, a small tally imports none of
    the modules it does without."""
    command = Path(sys.executable).with_name("pb")
    done = subprocess.run([str(command), "tally", str(SMALL), "--rule", "greedy", "--no-progress"],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPROFILEIMPORTTIME="1"))  # = python -X importtime
    assert done.returncode == 0 and "winners" in done.stdout, done.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert {"pb.console", "pb.tally.rules.greedy"} <= imported  # the list is the whole process's
    assert not set(LEAN) & imported


def test_the_installed_pb_command_keeps_the_exit_status_of_every_command():
    command = str(Path(sys.executable).with_name("pb"))
    assert subprocess.run([command, "--help"], capture_output=True, timeout=120).returncode == 0
    assert subprocess.run([command, "no-such-command"], capture_output=True, timeout=120).returncode == 2
    missing = subprocess.run([command, "tally", str(SMALL) + ".missing", "--rule", "mes", "--no-progress"],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 1 and "cannot read" in missing.stderr
    assert subprocess.run([command, "tally", str(SMALL), "--rule"], capture_output=True, timeout=120).returncode == 2
