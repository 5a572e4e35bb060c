"""``pb tally``: run a voting rule on a Pabulib ``.pb`` file and explain the outcome.

Examples::

    pb tally Poland_Lodz_2023.pb --rule greedy
    pb tally Poland_Lodz_2023.pb --rule mes --completion add1_greedy --json
    pb tally Poland_Lodz_2023.pb --compare greedy,mes:add1_greedy,phragmen
    python -m pb.tally FILE.pb --rule phragmen

A rule spec is a rule name optionally followed by ``:`` options, each a
satisfaction (``cost``, ``cardinality``, ``points``) or an MES completion
(``none``, ``add1``, ``add1_greedy``, ``add1_last_feasible``,
``add1_last_feasible_greedy``, ``budget_increase``): ``mes:add1_greedy``,
``greedy:cardinality``, ``mes:points:add1``. ``add1`` is pabutools' Add1 (stops at the
first exhaustive outcome), ``add1_last_feasible`` Pabulib's and equalshares.net's
(keeps raising the voters' money while the outcome fits the budget); see the README.

Text output lists the winners in selection order and every project's outcome
(reason code and the figures behind it; long fractions are shown rounded, marked
``~``). ``--json`` prints exact figures: integers as JSON numbers, fractions as
strings (an exact decimal such as ``"776314.03"`` when there is one, else
``"p/q"``). Exit status: 0 ok, 1 unreadable file or invalid rule options,
2 bad command line.
"""

from __future__ import annotations

import os
import sys
import time

from pb.tally import COMPLETIONS, RULES, SATISFACTIONS, TIE_BREAKERS, jsontext, numbers
from pb.tally.model import Record
from pb.tally.numbers import is_fraction
from pb.tally.pabulib import PbFormatError, format_number, read_pb
from pb.tally.rational import Rational

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from argparse import ArgumentParser
    from collections.abc import Mapping, Sequence
    from typing import Any, TextIO

RULE_NAMES = tuple(RULES)
SATISFACTION_NAMES = SATISFACTIONS
COMPLETION_NAMES = COMPLETIONS
TIE_BREAK_NAMES = tuple(TIE_BREAKERS)
PROGRESS_AFTER_S = 2.0  # a run shorter than this prints no progress
_FLOAT_MAX = 10**300  # human(): larger numbers are not converted to float

# The options of ``pb tally``: name -> (destination, takes a value). build_parser adds them
# to argparse with their help; quick_parse reads the plain command lines with this table.
OPTIONS = {
    "--rule": ("rule", True),
    "--compare": ("compare", True),
    "--satisfaction": ("satisfaction", True),
    "--completion": ("completion", True),
    "--tie-break": ("tie_break", True),
    "--seed": ("seed", True),
    "--stop-at-first-misfit": ("stop_at_first_misfit", False),
    "--threshold": ("threshold", True),
    "--json": ("json", False),
    "--no-progress": ("no_progress", False),
}
CHOICES = {"satisfaction": SATISFACTION_NAMES, "completion": COMPLETION_NAMES}
DEFAULTS = {"file": None, "rule": None, "compare": None, "satisfaction": None, "completion": None,
            "tie_break": "lexico", "seed": None, "stop_at_first_misfit": False, "threshold": None,
            "json": False, "no_progress": False}


class RuleSpec(Record):
    """One rule with its options, as written on the command line."""

    __slots__ = ("rule", "satisfaction", "completion")

    def __init__(self, rule: str, satisfaction: str = "cost", completion: str = "none"):
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "satisfaction", satisfaction)
        object.__setattr__(self, "completion", completion)

    @property
    def label(self) -> str:
        parts = [self.rule]
        if self.satisfaction != "cost":
            parts.append(self.satisfaction)
        if self.completion != "none":
            parts.append(self.completion)
        return ":".join(parts)


class Run:
    """One rule run: its spec, its ``TallyResult`` and how long it took."""

    __slots__ = ("spec", "result", "seconds")

    def __init__(self, spec: RuleSpec, result: Any, seconds: float):
        self.spec = spec
        self.result = result
        self.seconds = seconds


def parse_rule_spec(text: str, satisfaction: str | None = None, completion: str | None = None) -> RuleSpec:
    """``"mes:add1_greedy"`` -> RuleSpec("mes", "cost", "add1_greedy"). Options given in the
    spec win over the ``satisfaction`` / ``completion`` defaults."""
    parts = [part.strip() for part in text.split(":")]
    rule = parts[0]
    if rule not in RULE_NAMES:
        raise ValueError(f"unknown rule {rule!r}; choose from {', '.join(RULE_NAMES)}")
    sat, comp = None, None
    for part in parts[1:]:
        if part in SATISFACTION_NAMES and sat is None:
            sat = part
        elif part in COMPLETION_NAMES and comp is None:
            if rule != "mes" and part != "none":
                raise ValueError(f"completion {part!r} in rule spec {text!r} applies to rule mes only")
            comp = part
        else:
            raise ValueError(
                f"bad option {part!r} in rule spec {text!r}: expected one satisfaction "
                f"({', '.join(SATISFACTION_NAMES)}) and/or one completion ({', '.join(COMPLETION_NAMES)})"
            )
    sat = sat or satisfaction or "cost"
    comp = comp or (completion if rule == "mes" else None) or "none"
    return RuleSpec(rule, sat, comp)


def build_parser() -> ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="pb tally",
        description="Run a participatory-budgeting voting rule on a Pabulib .pb file and explain "
        "why each project was or was not funded.",
    )
    parser.add_argument("file", help="a Pabulib .pb file")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--rule",
        metavar="RULE",
        help=f"the rule: {', '.join(RULE_NAMES)} (a spec such as mes:add1_greedy is accepted too)",
    )
    what.add_argument(
        "--compare",
        metavar="SPECS",
        help="comma-separated rule specs to run and show side by side, e.g. greedy,mes:add1_greedy,phragmen",
    )
    parser.add_argument("--satisfaction", choices=SATISFACTION_NAMES, help="satisfaction measure (default cost)")
    parser.add_argument("--completion", choices=COMPLETION_NAMES,
                        help="MES completion (default none; with --compare, for the mes specs)")
    parser.add_argument(
        "--tie-break",
        default=DEFAULTS["tie_break"],
        metavar="CHAIN",
        help=f"comma-separated tie-breakers, applied in order: {', '.join(TIE_BREAK_NAMES)} (default lexico)",
    )
    parser.add_argument("--seed", help="seed for the lottery tie-breaker")
    parser.add_argument(
        "--stop-at-first-misfit", action="store_true", help="greedy: stop at the first project that does not fit"
    )
    parser.add_argument("--threshold", help="greedy: minimum score to be eligible (exact number)")
    parser.add_argument("--json", action="store_true", help="machine-readable output with exact figures")
    parser.add_argument("--no-progress", action="store_true", help="no progress indicator on stderr")
    return parser


class QuickArgs:
    """The parsed command line (the attributes of argparse's namespace)."""

    def __init__(self, values: Mapping[str, object]):
        self.__dict__.update(values)


def quick_parse(argv: Sequence[str]) -> QuickArgs | None:
    """Read a plain, valid command line (one file, each option spelled out once, values that
    do not start with ``-``) as argparse would, without importing it: argparse, with the
    ``shutil`` and ``gettext`` it loads, costs about as much as a small tally. Anything
    else (help, abbreviations, mistakes) returns None and goes to argparse, whose messages
    stay the reference (a test checks that both read the same command lines alike)."""
    values = dict(DEFAULTS)
    seen = set()
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if not arg.startswith("-"):
            if values["file"] is not None:
                return None
            values["file"] = arg
            continue
        name, equals, value = arg.partition("=")
        option = OPTIONS.get(name)
        if option is None or name in seen:
            return None
        seen.add(name)
        dest, takes_value = option
        if not takes_value:
            if equals:
                return None
            values[dest] = True
            continue
        if not equals:
            if i == len(argv):
                return None
            value = argv[i]
            i += 1
        if value.startswith("-") or (dest in CHOICES and value not in CHOICES[dest]):
            return None
        values[dest] = value
    if values["file"] is None or (values["rule"] is None) == (values["compare"] is None):
        return None
    return QuickArgs(values)


class _ParserErrors:
    """argparse's ``parser.error`` (message and exit status 2), built only when needed."""

    def error(self, message: str) -> None:
        build_parser().error(message)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = quick_parse(argv)
    parser = _ParserErrors()
    if args is None:
        parser = build_parser()
        args = parser.parse_args(argv)
    stdout, stderr = sys.stdout, sys.stderr

    tie_break = tuple(part.strip() for part in args.tie_break.split(",") if part.strip())
    unknown = [name for name in tie_break if name not in TIE_BREAK_NAMES]
    if unknown or not tie_break:
        parser.error(f"--tie-break: unknown tie-breaker(s) {unknown}; choose from {', '.join(TIE_BREAK_NAMES)}")
    threshold = None
    if args.threshold is not None:
        from pb.tally.pabulib import parse_number

        try:
            threshold = parse_number(args.threshold, Rational)
        except ValueError:
            parser.error(f"--threshold: not a number: {args.threshold!r}")
    try:
        if args.rule is not None:
            specs = [parse_rule_spec(args.rule, args.satisfaction, args.completion)]
        else:
            specs = [
                parse_rule_spec(text, args.satisfaction, args.completion)
                for text in args.compare.split(",")
                if text.strip()
            ]
            if not specs:
                parser.error("--compare: no rule given")
    except ValueError as error:
        parser.error(str(error))
    if args.completion not in (None, "none") and all(spec.rule != "mes" for spec in specs):
        parser.error(f"--completion {args.completion} applies to rule mes only, not to "
                     f"{', '.join(spec.label for spec in specs)}")

    progress = _Progress(stderr, enabled=not args.no_progress)
    started = time.perf_counter()
    try:
        with progress.step(f"reading {os.path.basename(args.file)}"):
            # amounts that are not whole as the engine's Rational: the output prints them
            # exactly all the same, and a small tally never imports fractions (pb.tally.rational)
            election = read_pb(args.file, voters=False, rational=Rational)
    except (OSError, PbFormatError, UnicodeDecodeError) as error:
        print(f"pb tally: cannot read {args.file}: {error}", file=stderr)
        return 1
    parse_seconds = time.perf_counter() - started
    for warning in election.warnings:
        print(f"pb tally: warning: {os.path.basename(args.file)}: {warning}", file=stderr)

    from pb.tally import tally

    runs: list[Run] = []
    for spec in specs:
        kwargs: dict[str, object] = {
            "satisfaction": spec.satisfaction,
            "completion": spec.completion,
            "tie_break": tie_break,
            "seed": args.seed,
        }
        if spec.rule == "greedy":
            kwargs["stop_at_first_misfit"] = args.stop_at_first_misfit
            kwargs["threshold"] = threshold
        elif args.stop_at_first_misfit or threshold is not None:
            if args.rule is not None:
                print("pb tally: --stop-at-first-misfit and --threshold apply to greedy only", file=stderr)
                return 1
        t0 = time.perf_counter()
        try:
            with progress.step(f"running {spec.label}"):
                # the engine's exact numbers as they are: printed exactly all the same, and a
                # small tally never imports fractions (see pb.tally.rational)
                result = tally(election.instance, election.profile, spec.rule, public=False, **kwargs)
        except ValueError as error:
            print(f"pb tally: {spec.label}: {error}", file=stderr)
            return 1
        runs.append(Run(spec, result, time.perf_counter() - t0))

    try:
        if args.json:
            document = _json_document(args.file, election, runs, parse_seconds)
            if getattr(stdout, "isatty", lambda: False)():  # indented for a reader on a terminal
                import json

                stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
            elif len(election.profile.groups) <= numbers.SMALL_GROUPS:
                # compact into a pipe; a small electorate's document without importing json
                # (it imports re: more than the whole small tally; see pb.tally.jsontext)
                stdout.write(jsontext.dumps(document))
            else:
                import json

                # json.dumps, not json.dump: only it uses the C encoder (json.dump writes
                # chunk by chunk in Python, several times slower)
                stdout.write(json.dumps(document, ensure_ascii=False))
            stdout.write("\n")
        elif len(runs) == 1:
            _print_single(stdout, args.file, election, runs[0], tie_break)
        else:
            _print_compare(stdout, args.file, election, runs, tie_break)
        stdout.flush()
    except BrokenPipeError:  # e.g. piped into head: not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stdout.fileno())
        except (AttributeError, OSError, ValueError):
            pass
        finally:
            os.close(devnull)
    return 0


# ---------------------------------------------------------------- progress


class _Progress:
    """An elapsed-time indicator on stderr for steps that run longer than a couple of
    seconds (a rewritten line on a terminal, a line every 10 s otherwise)."""

    def __init__(self, stream: TextIO, enabled: bool):
        self.stream = stream
        self.enabled = enabled
        self.tty = bool(getattr(stream, "isatty", lambda: False)())

    def step(self, what: str) -> "_Step":
        return _Step(self, what)


class _Step:
    def __init__(self, progress: _Progress, what: str):
        self.progress = progress
        self.what = what
        self.thread = None
        self.shown = False

    def __enter__(self) -> "_Step":
        if self.progress.enabled:
            import threading  # only with the indicator (--no-progress runs without a thread)

            self.done = threading.Event()
            self.start = time.perf_counter()
            self.thread = threading.Thread(target=self._tick, daemon=True)
            self.thread.start()
        return self

    def _tick(self) -> None:
        stream, tty = self.progress.stream, self.progress.tty
        if self.done.wait(PROGRESS_AFTER_S):
            return
        interval = 0.5 if tty else 10.0
        while True:
            elapsed = time.perf_counter() - self.start
            try:
                if tty:
                    stream.write(f"\rpb tally: {self.what} ... {elapsed:5.0f} s")
                else:
                    stream.write(f"pb tally: {self.what} ... {elapsed:.0f} s\n")
                stream.flush()
            except (ValueError, OSError):  # stream closed under us
                return
            self.shown = True
            if self.done.wait(interval):
                return

    def __exit__(self, *exc) -> None:
        if self.thread is None:
            return
        self.done.set()
        self.thread.join()
        if self.shown:
            elapsed = time.perf_counter() - self.start
            end = "\r" if self.progress.tty else ""
            self.progress.stream.write(f"{end}pb tally: {self.what} done in {elapsed:.1f} s\n")
            self.progress.stream.flush()


# ---------------------------------------------------------------- JSON


def to_json(value: object) -> object:
    """Exact JSON form: ints stay numbers, other exact rationals (Fraction, the engine's
    Rational and mpq) become exact strings, tuples lists."""
    # the common types first, by exact type (a large MES explanation has tens of thousands
    # of values; the ABC check for Mapping is the slow one)
    kind = type(value)
    if kind is int or kind is str or kind is bool or value is None:
        return value
    if kind is dict:
        return {str(key): to_json(item) for key, item in value.items()}
    if kind is list or kind is tuple or isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, (bool, str, int)):
        return value
    if _is_rational(value):
        value = _as_published(value)
        return value if type(value) is int else format_number(value)
    if hasattr(value, "items"):  # any other mapping
        return {str(key): to_json(item) for key, item in value.items()}
    raise TypeError(f"cannot write {type(value).__name__} as exact JSON")


def _is_rational(value: object) -> bool:
    """An exact non-int number: Fraction, pb.tally.rational.Rational, gmpy2 mpq."""
    return hasattr(value, "denominator") and not isinstance(value, (int, float))


def _as_published(value: object) -> object:
    """An engine number as ``pb.tally.tally`` would publish it (explain.public_figures), so
    that the output is the same: a whole gmpy2 number is an int; a Rational or a Fraction
    stays a rational (written as one), as the Fraction it stands for."""
    if type(value) is Rational or is_fraction(value) or value.denominator != 1:
        return value
    return int(value.numerator)


def result_to_json(result: Any) -> dict:
    """A TallyResult as an exact JSON object."""
    return {
        "rule": result.rule,
        "options": to_json(result.options),
        "winners": list(result.winners),
        "spent": to_json(result.spent),
        "budget": to_json(result.budget),
        "outcomes": {
            pid: {"selected": o.selected, "reason": o.reason, "figures": to_json(o.figures)}
            for pid, o in result.outcomes.items()
        },
    }


def _json_document(path: str, election, runs: list[Run], parse_seconds: float) -> dict:
    instance, profile = election.instance, election.profile
    return {
        "file": os.path.basename(path),
        "vote_type": profile.kind,
        "voters": profile.num_voters,
        "distinct_ballots": len(profile.groups),
        "projects": len(instance.projects),
        "budget": to_json(instance.budget),
        "parse_seconds": round(parse_seconds, 3),
        "results": [
            dict(result_to_json(run.result), spec=run.spec.label, seconds=round(run.seconds, 3)) for run in runs
        ],
    }


# ---------------------------------------------------------------- text


def human(value: object, digits: int = 2) -> str:
    """Readable number: ints with thousands separators, fractions exact when short,
    else rounded and marked with ``~``."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if _is_rational(value):
        value = _as_published(value)
    if isinstance(value, int):
        return f"{value:,}"
    if _is_rational(value):
        exact = format_number(value)
        if "/" not in exact and len(exact) <= 16:
            whole, _, frac = exact.partition(".")
            return f"{int(whole):,}.{frac}" if frac else f"{int(whole):,}"
        if abs(value) >= _FLOAT_MAX:  # beyond float range: scientific notation from the exact digits
            whole = str(abs(int(value)))
            return f"~{'-' if value < 0 else ''}{whole[0]}.{whole[1:1 + digits]}e+{len(whole) - 1}"
        rounded = int(value.numerator) / int(value.denominator)  # correctly rounded, as float(Fraction)
        if abs(value) >= 1:
            return f"~{rounded:,.{digits}f}"
        return f"~{rounded:.{digits}g}" if value else "0"
    if isinstance(value, str):
        return value
    if hasattr(value, "items"):  # a mapping
        return "{" + ", ".join(f"{k}={human(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return f"[{len(value)} entries]"
    return str(value)


def _figures_text(figures: Mapping[str, object]) -> str:
    parts = []
    for key, value in figures.items():
        if key == "payments" and isinstance(value, (list, tuple)):
            payers = sum(int(item.get("voters", 0)) for item in value if hasattr(item, "items"))
            parts.append(f"payers={payers:,}")
            continue
        if hasattr(value, "items"):  # a mapping: one level of sub-figures
            for sub_key, sub_value in value.items():
                if isinstance(sub_value, (list, tuple)):
                    continue
                parts.append(f"{key}.{sub_key}={human(sub_value)}")
            continue
        parts.append(f"{key}={human(value)}")
    return " ".join(parts)


def _header(out: TextIO, path: str, election) -> None:
    instance, profile = election.instance, election.profile
    out.write(
        f"{os.path.basename(path)}: {profile.kind}, {profile.num_voters:,} voters "
        f"({len(profile.groups):,} distinct ballots), {len(instance.projects)} projects, "
        f"budget {human(instance.budget)}\n"
    )


def _options_text(run: Run, tie_break: tuple[str, ...]) -> str:
    spec = run.spec
    bits = [f"satisfaction {spec.satisfaction}"]
    if spec.rule == "mes":
        bits.append(f"completion {spec.completion}")
    bits.append(f"tie-break {','.join(tie_break)}")
    extra = run.result.options
    for key in ("iterations", "budget_per_voter", "welfare"):
        if key in extra and extra[key] is not None:
            bits.append(f"{key.replace('_', ' ')} {human(extra[key])}")
    if extra.get("stopped"):
        from pb.tally.completion import STOP_REASONS

        bits.append(f"stopped: {STOP_REASONS.get(extra['stopped'], extra['stopped'])}")
    return ", ".join(bits)


def _name(election, pid: str, width: int = 48) -> str:
    name = election.instance.projects[pid].name.replace("\n", " ")
    return name if len(name) <= width else name[: width - 1] + "…"


def _ratio(a, b) -> float:
    """a / b, two exact numbers, correctly rounded to a float (as float(Fraction(a) / b))."""
    return (int(a.numerator) * int(b.denominator)) / (int(a.denominator) * int(b.numerator))


def _print_single(out: TextIO, path: str, election, run: Run, tie_break: tuple[str, ...]) -> None:
    from pb.tally.explain import REASONS

    result = run.result
    _header(out, path, election)
    out.write(f"rule {run.spec.label} ({_options_text(run, tie_break)}) in {run.seconds:.2f} s\n\n")
    budget = result.budget
    share = f" ({_ratio(result.spent, budget) * 100:.1f}%)" if budget else ""
    out.write(
        f"{len(result.winners)} winners, spent {human(result.spent)} of {human(budget)}{share}\n"
    )
    projects = election.instance.projects
    id_width = max([len(pid) for pid in projects] + [7])
    out.write(f"  {'#':>3}  {'project':<{id_width}}  {'cost':>14}  name\n")
    for number, pid in enumerate(result.winners, 1):
        out.write(f"  {number:>3}  {pid:<{id_width}}  {human(projects[pid].cost):>14}  {_name(election, pid)}\n")
    out.write("\nall projects (+ funded, - not funded), with the reason code and its figures\n")
    used = []
    for pid, outcome in result.outcomes.items():
        mark = "+" if outcome.selected else "-"
        out.write(f"  {mark} {pid:<{id_width}}  {outcome.reason:<24}  {_figures_text(outcome.figures)}\n")
        if outcome.reason not in used:
            used.append(outcome.reason)
    out.write("\nreason codes:\n")
    for reason in used:
        out.write(f"  {reason}: {REASONS.get(reason, reason)}\n")


def _print_compare(out: TextIO, path: str, election, runs: list[Run], tie_break: tuple[str, ...]) -> None:
    _header(out, path, election)
    out.write(f"tie-break {','.join(tie_break)}; a cell is the selection order (#n) or the reason code\n\n")
    projects = election.instance.projects
    labels = [run.spec.label for run in runs]
    width = max([len(label) for label in labels] + [24])
    id_width = max([len(pid) for pid in projects] + [7])
    order = {run.spec.label: {pid: i for i, pid in enumerate(run.result.winners, 1)} for run in runs}
    # projects funded by some rule first (by how many rules fund them, then id), then the rest
    funded_by = {pid: sum(pid in order[label] for label in labels) for pid in projects}
    rows = sorted(projects, key=lambda pid: (-funded_by[pid], pid))
    out.write(f"{'project':<{id_width}}  {'cost':>14}  " + "  ".join(f"{label:<{width}}" for label in labels) + "\n")
    for pid in rows:
        cells = []
        for run, label in zip(runs, labels):
            position = order[label].get(pid)
            outcome = run.result.outcomes.get(pid)
            cells.append(f"#{position}" if position else (outcome.reason if outcome else "?"))
        same = "" if len({c.startswith("#") for c in cells}) == 1 else "  *"
        out.write(
            f"{pid:<{id_width}}  {human(projects[pid].cost):>14}  "
            + "  ".join(f"{cell:<{width}}" for cell in cells)
            + same
            + "\n"
        )
    out.write("\n")
    summary = [
        ("winners", [str(len(run.result.winners)) for run in runs]),
        ("spent", [human(run.result.spent) for run in runs]),
        ("seconds", [f"{run.seconds:.2f}" for run in runs]),
    ]
    for title, cells in summary:
        out.write(f"{title:<{id_width}}  {'':>14}  " + "  ".join(f"{cell:<{width}}" for cell in cells) + "\n")
    out.write("(* = funded by some rules and not by others)\n")
