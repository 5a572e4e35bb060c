"""Read and write Pabulib ``.pb`` files (standard library only).

A ``.pb`` file has three sections, ``META``, ``PROJECTS`` and ``VOTES``; each is
a title line, a header line and ``;``-separated CSV rows. This module reads the
whole format into the engine's exact model (:mod:`pb.tally.model`):

- UTF-8 with or without BOM, ``\\n`` / ``\\r\\n`` / ``\\r`` line endings, CSV
  quoting (fields containing ``;`` or ``"``, even line breaks), blank lines,
  spaces around fields and around the ids inside a ``vote`` list;
- budgets, costs and points read exactly: ``776314.03`` is
  ``Fraction(77631403, 100)``, ``50000.0`` is the int ``50000`` (a decimal comma
  ``12,5`` is accepted as in pabutools);
- a field equal to ``none`` (any case) counts as absent;
- approval / choose-1 ballots are sets (an id listed twice counts once),
  ordinal ballots keep an id's first position, cumulative / scoring ballots
  keep an id's first position and its last points value (pabutools' dict
  semantics);
- identical ballots are grouped while parsing (``Profile.groups``, sorted by their
  ids as ``build_profile`` does), so the profile does not depend on the order of the
  voters; approval votes listing numeric ids are grouped by numpy and handed over as
  arrays (``pb.tally.grouped``), the ballot objects being built on first access;
- ballot limits from META (``min_length``, ``max_length``, ``min_sum_cost``,
  ``max_sum_cost``, ``min_points``, ``max_points``, ``min_sum_points``,
  ``max_sum_points``, ``default_score``) go to ``Profile.limits`` as exact numbers.

Errors (unknown project id in a vote, bad number, missing column, ...) raise
:class:`PbFormatError` naming the line.

``write_pb`` writes an election back; ``read_pb(write_pb(e))`` gives the same
instance, profile and voters.
"""

from __future__ import annotations

import gc
import io
import os
from itertools import accumulate, chain, compress, count, islice, repeat
from math import gcd
from operator import eq, itemgetter

from pb.tally.grouped import LazyGroups, make_ballots, make_groups, numeric_approval_groups
from pb.tally import numbers
from pb.tally.model import Ballot, Instance, Profile, Project, Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from pb.tally.model import Number

__all__ = [
    "PbElection",
    "PbFormatError",
    "Voter",
    "format_number",
    "load",
    "parse_number",
    "read_pb",
    "write_pb",
]

VOTE_TYPES = ("approval", "choose-1", "cumulative", "scoring", "ordinal")
LIMIT_KEYS = (
    "min_length",
    "max_length",
    "min_sum_cost",
    "max_sum_cost",
    "min_points",
    "max_points",
    "min_sum_points",
    "max_sum_points",
    "default_score",
)
_SECTIONS = ("meta", "projects", "votes")
_SET_KINDS = ("approval", "choose-1")
_POINTS_KINDS = ("cumulative", "scoring")


class PbFormatError(ValueError):
    """A ``.pb`` file that cannot be read; the message names the line."""

    def __init__(self, message: str, line: int | None = None, source: str | None = None):
        where = ""
        if source:
            where += f"{source}: "
        if line is not None:
            where += f"line {line}: "
        super().__init__(where + message)
        self.line = line
        self.source = source


class Voter(Record):
    """One VOTES row: the voter id, the ballot and the other columns (``none`` dropped)."""

    __slots__ = ("voter_id", "ballot", "extra")

    def __init__(self, voter_id: str, ballot: Ballot, extra: Mapping[str, str] | None = None):
        object.__setattr__(self, "voter_id", voter_id)
        object.__setattr__(self, "ballot", ballot)
        object.__setattr__(self, "extra", {} if extra is None else extra)


class PbElection(Record):
    """A parsed ``.pb`` file.

    ``meta`` is the META section (same mapping as ``instance.meta``); ``voters``
    lists every VOTES row in file order when read with ``voters=True`` (else None).
    ``warnings``: things that look wrong without making the file unreadable (e.g. fewer
    votes than META num_votes: a truncated file); ``pb tally`` prints them.
    """

    __slots__ = ("instance", "profile", "meta", "voters", "vote_columns", "warnings")

    def __init__(self, instance: Instance, profile: Profile, meta: Mapping[str, str],
                 voters: tuple[Voter, ...] | None = None, vote_columns: tuple[str, ...] = (),
                 warnings: tuple[str, ...] = ()):
        object.__setattr__(self, "instance", instance)
        object.__setattr__(self, "profile", profile)
        object.__setattr__(self, "meta", meta)
        object.__setattr__(self, "voters", voters)
        object.__setattr__(self, "vote_columns", vote_columns)
        object.__setattr__(self, "warnings", warnings)

    @property
    def vote_type(self) -> str:
        return self.profile.kind


# ---------------------------------------------------------------- numbers


def parse_number(text: str, rational: type | None = None) -> Number:
    """Exact number from a Pabulib field: ``"12"`` -> 12, ``"12.50"`` -> Fraction(25, 2),
    ``"50000.0"`` -> 50000, ``"1,5"`` -> Fraction(3, 2), ``"1/3"`` -> Fraction(1, 3).

    Raises ValueError on anything else (including ``inf`` / ``nan``). A number that is not
    whole is a ``rational(numerator, denominator)``, by default a ``Fraction``;
    ``pb tally`` asks for ``pb.tally.rational.Rational``, and plain decimals are read here,
    so that it never imports ``fractions`` (see pb.tally.rational). Other forms (``p/q``,
    digit groups with ``_``) are read by ``Fraction``.
    """
    s = text.strip()
    try:
        return int(s)
    except ValueError:
        pass
    s = s.replace(",", ".")
    parts = _plain_decimal(s)
    if parts is None:
        from fractions import Fraction

        try:
            value = Fraction(s)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"not a number: {text!r}") from None
        parts = value.numerator, value.denominator
    num, den = parts
    if den == 1:
        return num
    if rational is None:
        from fractions import Fraction as rational

    return rational(num, den)


_DIGITS = frozenset("0123456789")


def _plain_decimal(s: str) -> tuple[int, int] | None:
    """(numerator, denominator) in lowest terms of ``[+-]digits[.digits][e[+-]digits]``
    (ASCII digits, at least one before or after the point), else None."""
    mantissa, e, exponent = s.replace("E", "e").partition("e")
    sign = -1 if mantissa[:1] == "-" else 1
    if mantissa[:1] in ("-", "+"):
        mantissa = mantissa[1:]
    whole, _, decimals = mantissa.partition(".")
    if not (whole or decimals) or not _DIGITS.issuperset(whole + decimals):
        return None
    shift = -len(decimals)
    if e:
        digits = exponent[1:] if exponent[:1] in ("-", "+") else exponent
        if not digits or not _DIGITS.issuperset(digits):
            return None
        shift += int(exponent)
    num = sign * int(whole + decimals)
    if shift >= 0:
        return num * 10**shift, 1
    den = 10**-shift
    g = gcd(num, den)
    return num // g, den // g


def format_number(value: Number) -> str:
    """Inverse of :func:`parse_number`: ints as is, Fractions (and the engine's other exact
    rationals) as an exact decimal (``"776314.03"``) when they have one, else as ``"p/q"``."""
    if isinstance(value, bool):
        raise TypeError("a bool is not a number here")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) or not hasattr(value, "denominator"):
        raise TypeError(f"not an exact number: {value!r}")
    num, den = int(value.numerator), int(value.denominator)
    if den == 1:
        return str(num)
    # an exact decimal iff den = 2**twos * 5**fives; the explanations of a large
    # MES run hold thousands of fractions with 100-digit denominators, so the twos
    # are counted in one step (the lowest set bit) and most others fail at once
    twos = (den & -den).bit_length() - 1
    rest = den >> twos
    fives = 0
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1:
        return f"{num}/{den}"
    digits = max(twos, fives)
    n = num * 10**digits // den  # exact: den divides 10**digits
    sign = "-" if n < 0 else ""
    whole, frac = divmod(abs(n), 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}"


# ---------------------------------------------------------------- reading


def _is_none(value: str) -> bool:
    return len(value) == 4 and value.lower() == "none"


def _read_text(path_or_text: str | os.PathLike | bytes) -> tuple[str, str | None]:
    """The file's text and a name for messages. A str containing a line break is text."""
    if isinstance(path_or_text, bytes):
        return _decode(path_or_text, None), None
    if isinstance(path_or_text, os.PathLike) or (
        isinstance(path_or_text, str) and "\n" not in path_or_text and "\r" not in path_or_text
    ):
        path = os.fspath(path_or_text)
        with open(path, "rb") as handle:
            source = os.path.basename(path)
            return _decode(handle.read(), source), source
    text = path_or_text
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, None


def _decode(data: bytes, source: str | None) -> str:
    """UTF-8 text (a BOM dropped); bytes that are not UTF-8 are reported by line and column."""
    if data.startswith(b"\xef\xbb\xbf"):  # by hand: the "utf-8-sig" codec is one more module to import
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start:error.end].hex(" ")
        raise PbFormatError(
            f"not UTF-8: byte(s) {bad} at column {error.start - line_start + 1} (save the file as UTF-8)",
            line, source) from None


def _line_of(text: str, index: int) -> int | None:
    """Physical line number (1-based, last line of the row) of CSV row ``index``.

    Only called to word an error message, so a second pass over the text is fine.
    """
    import csv

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    for position, _row in enumerate(reader):
        if position == index:
            return reader.line_num
    return None


def _is_blank(row: Sequence[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _section_of(row: Sequence[str]) -> str | None:
    if len(row) >= 1 and all(not cell.strip() for cell in row[1:]):
        name = row[0].strip().lower()
        if name in _SECTIONS:
            return name
    return None


_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TITLE_GUESSES = {"PROJECT": "PROJECTS", "VOTE": "VOTES", "BALLOTS": "VOTES", "BALLOT": "VOTES",
                  "METADATA": "META", "METAS": "META"}


def _refuse_lookalike_title(row: Sequence[str], index: int, fail) -> None:
    """A line holding one upper-case word that is not META, PROJECTS or VOTES is a
    misspelt section title: say so, rather than reading it as data and failing later."""
    if len(row) < 1 or any(cell.strip() for cell in row[1:]):
        return
    word = row[0].strip()
    if len(word) < 3 or word[0] not in _UPPER or word.strip(_UPPER + "_ "):  # not [A-Z][A-Z_ ]{2,}
        return
    guess = _TITLE_GUESSES.get(word.upper())
    hint = f" (did you mean {guess}?)" if guess else ""
    raise fail(f"{word!r} is not a section title{hint}: the sections are META, PROJECTS and VOTES, "
               f"in that order", index)


def read_pb(
    path_or_text: str | os.PathLike | bytes,
    *,
    voters: bool = True,
    rational: type | None = None,
) -> PbElection:
    """Read a ``.pb`` file (a path, or the file's text / bytes).

    ``voters=False`` skips building the per-voter list (faster, less memory);
    the instance and the grouped profile are the same either way. Amounts and points
    that are not whole are ``Fraction``, or ``rational`` if given (see :func:`parse_number`).
    """
    text, source = _read_text(path_or_text)
    # Reading builds a few hundred thousand small containers and frees none of them:
    # the cyclic garbage collector would re-scan the growing heap dozens of times
    # for nothing (about a third of the time on city-wide files). It is paused
    # while reading and restored afterwards.
    collecting = gc.isenabled()
    gc.disable()
    try:
        fast = _split_plain_votes(text)
        if fast is not None:
            try:
                return _read(text, source, voters, fast, rational)
            except _NotPlain:
                pass  # something unusual in VOTES: the careful path reads (or rejects) it
        return _read(text, source, voters, None, rational)
    finally:
        if collecting:
            gc.enable()


def _read(text: str, source: str | None, voters: bool, fast, rational: type | None = None) -> PbElection:
    """The reader proper. ``fast`` = (head text, VOTES lines) from :func:`_split_plain_votes`:
    META and PROJECTS are then read by splitting too: without quotes, NUL or carriage
    returns (see there) a ``csv`` row is exactly a line split at ``;`` (a blank line: no
    cell), and ``csv`` is imported only by the careful path."""
    if fast is not None:
        head, vote_lines = fast
        lines = head.split("\n")
        if lines[-1] == "":  # the head ends where the VOTES title line starts
            lines.pop()
        all_rows = [line.split(";") if line else [] for line in lines]
        all_rows.append(["VOTES"])
    else:
        import csv

        vote_lines = None
        # csv does the tokenising in C; the rows are then walked by index
        all_rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    total = len(all_rows)

    meta: dict[str, str] = {}
    projects: dict[str, Project] = {}
    project_rows: dict[str, int] = {}
    vote_header: list[str] | None = None
    vote_start = 0
    counts: dict = {}
    voter_rows: list | None = None

    def fail(message: str, index: int | None) -> PbFormatError:
        return PbFormatError(message, None if index is None else _line_of(text, index), source)

    section: str | None = None
    header: list[str] = []
    index = 0
    while index < total:
        row = all_rows[index]
        if _is_blank(row):
            index += 1
            continue
        name = _section_of(row)
        if name is None:
            _refuse_lookalike_title(row, index, fail)
            if section is None:
                raise fail("data before the first section title (META, PROJECTS or VOTES)", index)
            if section == "meta":
                key = row[0].strip()
                if len(row) > 2:
                    # an unquoted ';' inside a value: keep the rest verbatim
                    value = ";".join(row[1:]).strip()
                else:
                    value = row[1].strip() if len(row) > 1 else ""
                meta[key] = value
            elif section == "projects":
                _read_project(row, header, projects, project_rows, index, fail, rational)
            index += 1
            continue
        section = name
        title_index = index
        index += 1
        if section == "votes" and vote_lines is not None:  # the last row of the head
            vote_header, counts, voter_rows = _count_plain_votes(vote_lines, voters)
            continue
        while index < total and _is_blank(all_rows[index]):
            index += 1
        if index >= total:
            raise fail(f"section {section.upper()} has no header line", title_index)
        header = [cell.strip() for cell in all_rows[index]]
        index += 1
        if section == "votes":
            if vote_header is not None:
                raise fail("second VOTES section", title_index)
            vote_header = header
            vote_start = index
            # the hot part; returns where a section following VOTES starts (or the end)
            index, counts, voter_rows = _read_votes(all_rows, index, header, voters, fail)

    if vote_header is None:
        raise PbFormatError("no VOTES section", None, source)

    kind = meta.get("vote_type", "").strip().lower()
    if kind not in VOTE_TYPES:
        raise PbFormatError(
            f"META vote_type must be one of {', '.join(VOTE_TYPES)}, got {meta.get('vote_type')!r}",
            None,
            source,
        )
    if "budget" not in meta:
        raise PbFormatError("META has no budget", None, source)
    try:
        budget = parse_number(meta["budget"], rational)
    except ValueError:
        raise PbFormatError(f"META budget is not a number: {meta['budget']!r}", None, source) from None
    if budget < 0:
        raise PbFormatError(f"META budget must not be negative, got {meta['budget']!r}", None, source)

    limits: dict[str, Number] = {}
    for key in LIMIT_KEYS:
        raw = meta.get(key)
        if raw is None or _is_none(raw.strip()) or not raw.strip():
            continue
        try:
            limits[key] = parse_number(raw, rational)
        except ValueError:
            raise PbFormatError(f"META {key} is not a number: {raw!r}", None, source) from None

    if (voter_rows is None and kind in _SET_KINDS and "points" not in vote_header  # keyed by vote text
            and len(counts) > numbers.SMALL_GROUPS):  # a small file needs no numpy (start-up)
        arrays = numeric_approval_groups(list(counts), list(counts.values()), projects)
        if arrays is not None:  # the most common case, vectorised; objects built on demand
            instance = Instance(projects=projects, budget=budget, meta=meta)
            profile = Profile(kind=kind, groups=LazyGroups(arrays), limits=limits)
            return PbElection(instance=instance, profile=profile, meta=meta, voters=None,
                              vote_columns=tuple(vote_header), warnings=_count_warnings(meta, counts, projects))
    plain_sets = kind in _SET_KINDS and "points" not in vote_header  # counts keyed by vote text alone
    quick = _group_plain_sets(counts, projects) if plain_sets else None
    if quick is not None:  # the common case, done in C (see _group_plain_sets)
        keys, items_list, count_list, raw_keys = quick
        ballots_list = make_ballots(items_list, None)
        canon = dict(zip(counts, raw_keys)) if voter_rows is not None else {}
    else:
        if vote_lines is not None and kind in _SET_KINDS:
            raise _NotPlain  # e.g. an id listed twice or with spaces: read it the careful way
        try:
            canon, items_of = _canonical_keys(kind, counts, projects, vote_header, all_rows, vote_start, fail,
                                              rational)
        except PbFormatError:
            if vote_lines is not None:
                raise _NotPlain from None  # the careful path names the line
            raise
        grouped: dict = {}
        grouped_get = grouped.get
        for raw, count in counts.items():
            key = canon[raw]
            grouped[key] = grouped_get(key, 0) + count
        # canonical order: by the ballot's ids (see _canonical_keys), then points
        if kind in _POINTS_KINDS or _joined_sorts_as_tuples(projects):
            keys = sorted(grouped)
        else:
            keys = sorted(grouped, key=items_of.__getitem__)
        if kind in _POINTS_KINDS:
            ballots_list = make_ballots([key[0] for key in keys], [key[1] for key in keys])
        else:
            ballots_list = make_ballots(list(map(items_of.__getitem__, keys)), None)
        count_list = list(map(grouped.__getitem__, keys))
    groups = make_groups(ballots_list, count_list)
    ballot_of = dict(zip(keys, ballots_list))

    instance = Instance(projects=projects, budget=budget, meta=meta)
    profile = Profile(kind=kind, groups=groups, limits=limits)

    voter_list: tuple[Voter, ...] | None = None
    if voter_rows is not None:
        ballots = {raw: ballot_of[key] for raw, key in canon.items()}
        voter_list = _build_voters(voter_rows, vote_header, kind, ballots)
    return PbElection(
        instance=instance,
        profile=profile,
        meta=meta,
        voters=voter_list,
        vote_columns=tuple(vote_header),
        warnings=_count_warnings(meta, counts, projects),
    )


def _count_warnings(meta: Mapping[str, str], counts: dict, projects: Mapping) -> tuple[str, ...]:
    """META num_votes / num_projects against what the file holds: a file cut off at a line
    end still reads, but with fewer voters than announced."""
    warnings = []
    for key, found, what in (("num_votes", sum(counts.values()), "votes"), ("num_projects", len(projects), "projects")):
        announced = meta.get(key, "").strip()
        if announced.isdigit() and int(announced) != found:
            hint = " (is the file complete?)" if found < int(announced) else ""
            warnings.append(f"META {key} is {int(announced):,} but the file has {found:,} {what}{hint}")
    return tuple(warnings)


def load(path: str | os.PathLike) -> tuple[Instance, Profile]:
    """Read a ``.pb`` file into ``(instance, profile)`` (without the per-voter list)."""
    election = read_pb(path, voters=False)
    return election.instance, election.profile


def _read_project(row, header, projects, project_rows, index, fail, rational) -> None:
    if "project_id" not in header or "cost" not in header:
        raise fail("PROJECTS header needs project_id and cost columns", index)
    values: dict[str, str] = {}
    for column, cell in enumerate(row):
        if column >= len(header):
            if cell.strip():
                raise fail(f"PROJECTS row has {len(row)} fields, header has {len(header)}", index)
            continue
        value = cell.strip()
        if _is_none(value):
            continue
        values[header[column]] = value
    project_id = values.pop("project_id", "")
    if not project_id:
        raise fail("project without project_id", index)
    if "," in project_id:
        raise fail(f"project id {project_id!r} contains ',' (ids are listed with ',' in votes)", index)
    if project_id in projects:
        raise fail(f"project {project_id!r} listed twice", index)
    if "cost" not in values:
        raise fail(f"project {project_id!r} has no cost", index)
    try:
        cost = parse_number(values.pop("cost"), rational)
    except ValueError as error:
        raise fail(f"project {project_id!r}: cost {error}", index) from None
    if cost < 0:
        raise fail(f"project {project_id!r}: cost must not be negative, got {format_number(cost)}", index)
    name = values.pop("name", "")
    projects[project_id] = Project(id=project_id, cost=cost, name=name, extra=values)
    project_rows[project_id] = index


class _NotPlain(Exception):
    """The VOTES lines are not plain ``;``-separated rows: read the file the careful way."""




def _split_plain_votes(text: str):
    """(head, VOTES lines) when the file allows reading VOTES by plain splitting, else None.

    Why: VOTES is nearly the whole file (tens of thousands of rows), and ``csv`` walks
    every character of every column (age, sex, district...) in a state machine. Without
    any quote character (and NUL) a row is exactly ``line.split(";")``, and splitting in C
    only as far as the vote column is several times faster. Anything unusual (quotes,
    a section after VOTES, a blank or short row) takes the careful ``csv`` path.
    """
    if '"' in text or "\0" in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # the VOTES title: the first line that is one; a later title (a second VOTES, or
    # META / PROJECTS after VOTES) has no vote field and sends the reading to csv
    title = _votes_title(text)
    if title is None:
        return None
    start, end = title
    lines = text[end + 1:].split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return text[:start], lines


def _votes_title(text: str) -> tuple[int, int] | None:
    """(start, end) of the first line that is the VOTES title: ``votes`` in any case, after
    spaces or tabs, before spaces, tabs or ``;``. Read line by line (only the short META and
    PROJECTS come before it), without ``re``, whose import costs a small tally 1.5x."""
    start = 0
    while True:
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        line = text[start:end].lstrip(" \t").rstrip(" \t;")
        if len(line) == 5 and line.lower() == "votes":
            return start, end
        if end == len(text):
            return None
        start = end + 1


def _count_plain_votes(lines: list[str], keep: bool):
    """Header, raw vote counts and (if ``keep``) the split rows of plain VOTES lines."""
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines):
        raise _NotPlain
    header = [cell.strip() for cell in lines[start].split(";")]
    body = lines[start + 1:]
    if "vote" not in header or "" in body:
        raise _NotPlain
    vote_index = header.index("vote")
    points_index = header.index("points") if "points" in header else -1
    if vote_index == 0 or points_index == 0:  # a title line would read as a vote
        raise _NotPlain
    getter = itemgetter(vote_index, points_index) if points_index >= 0 else itemgetter(vote_index)
    splits = max(vote_index, points_index) + 1
    try:
        if keep:
            rows = list(map(str.split, body, repeat(";")))
            counts = _count(map(getter, rows), len(rows))
        else:
            rows = None
            counts = _count(map(getter, map(str.split, body, repeat(";"), repeat(splits))), len(body))
    except IndexError:  # a row too short to have a vote: the careful path names its line
        raise _NotPlain from None
    if any(key[0] == "" for key in counts) if points_index >= 0 else "" in counts:
        raise _NotPlain  # an empty vote, or a title such as "PROJECTS;": the careful path decides
    return header, counts, rows


def _read_votes(all_rows, start, header, keep, fail):
    """Count each distinct raw vote text (with the raw points text if there is a
    points column) over the VOTES rows from ``start``.

    Returns (end index, counts, voter rows or None). The common case (no blank or
    short row, no section after VOTES) is counted by :func:`_count`; anything
    else goes through the careful loop.
    """
    if "vote" not in header:
        raise fail("VOTES header has no vote column", start - 1)
    vote_index = header.index("vote")
    points_index = header.index("points") if "points" in header else -1
    if points_index >= 0:
        getter = itemgetter(vote_index, points_index)
    else:
        getter = itemgetter(vote_index)
    body = all_rows[start:] if start else all_rows
    if vote_index > 0 and points_index != 0:
        try:
            counts = _count(map(getter, body), len(body))
        except IndexError:
            pass  # a blank or short row, or a section title: careful loop
        else:
            # a title such as "PROJECTS;" has two fields and would count as an empty vote
            if points_index >= 0:
                suspicious = any(key[0] == "" for key in counts)
            else:
                suspicious = "" in counts
            if not suspicious:
                return len(all_rows), counts, (body if keep else None)
    counts: dict = {}
    kept: list | None = [] if keep else None
    width_needed = max(vote_index, points_index) + 1
    index = start
    total = len(all_rows)
    while index < total:
        row = all_rows[index]
        if _is_blank(row):
            index += 1
            continue
        if _section_of(row) is not None:
            return index, counts, kept
        if len(row) <= vote_index:
            raise fail(f"VOTES row has no vote field (header: {';'.join(header)})", index)
        if len(row) < width_needed:
            key = (row[vote_index], "") if points_index >= 0 else row[vote_index]
        else:
            key = getter(row)
        counts[key] = counts.get(key, 0) + 1
        if kept is not None:
            kept.append(row)
        index += 1
    return index, counts, kept


# above this many rows, counting in C by collections.Counter wins back its import (~1 ms)
_COUNT_IN_C = 10_000


def _count(keys, rows: int) -> dict:
    """How many times each of ``rows`` keys occurs, in the order of first occurrence (a dict,
    as ``collections.Counter`` gives). A small file is counted by a plain loop: importing
    ``collections`` would cost more than counting its rows."""
    if rows > _COUNT_IN_C:
        from collections import Counter

        return Counter(keys)
    counts: dict = {}
    get = counts.get
    for key in keys:
        counts[key] = get(key, 0) + 1
    return counts


def _next_header(reader) -> list[str] | None:
    for row in reader:
        if not _is_blank(row):
            return [cell.strip() for cell in row]
    return None


def _split_ids(text: str) -> list[str]:
    if not text:
        return []
    parts = text.split(",")
    if " " in text or "\t" in text:
        parts = [part.strip() for part in parts]
    if "" in parts:
        parts = [part for part in parts if part]
    return parts


_SEPARATOR = ("",)


def _group_plain_sets(counts: dict, projects) -> tuple | None:
    """Approval / choose-1 groups straight from the raw vote texts, or None if any text
    needs the careful loop (unknown or blank id, stray space, a "none" vote).

    Returns (canonical keys in sorted order, their ids as tuples, their voter counts,
    the canonical key of every raw text in ``counts`` order).
    Why: this runs once per distinct ballot (tens of thousands on city-wide files), so
    every step is a C-level ``map``: split, sort, then one check over all ids at once.
    An id listed twice in a vote shows as two equal neighbours once every sorted
    ballot is followed by "" in one flat list; then the ballots are made sets.
    """
    ordered = list(map(tuple, map(sorted, map(str.split, counts, repeat(",")))))
    if not set(projects).issuperset(chain.from_iterable(ordered)):
        return None
    flat = list(chain.from_iterable(chain.from_iterable(zip(ordered, repeat(_SEPARATOR)))))
    twice = list(compress(count(), map(eq, flat, islice(flat, 1, None))))  # flat positions of repeats
    if twice:  # an id listed twice counts once: fix just those ballots
        from bisect import bisect_right

        ends = list(accumulate(map((1).__add__, map(len, ordered))))  # each ballot and its separator
        for index in sorted({bisect_right(ends, position) for position in twice}):
            ordered[index] = tuple(sorted(set(ordered[index])))
    keys = list(map(",".join, ordered))
    count_list = list(counts.values())
    position = dict(zip(keys, range(len(keys))))  # a key's last position
    if len(position) != len(keys):  # texts listing the same ids in another order: merge them
        merged = count_list[:]
        for index, last in enumerate(map(position.__getitem__, keys)):
            if index != last:
                merged[last] += count_list[index]
        count_list = merged
    order = sorted(position.values(), key=keys.__getitem__ if _joined_sorts_as_tuples(projects) else ordered.__getitem__)
    if len(order) < 2:
        return [keys[i] for i in order], [ordered[i] for i in order], [count_list[i] for i in order], keys
    pick = itemgetter(*order)
    return list(pick(keys)), list(pick(ordered)), list(pick(count_list)), keys


def _joined_sorts_as_tuples(project_ids) -> bool:
    """Joined keys ("12,5") sort like their id tuples (the canonical group order, as in
    ``build_profile``) unless an id contains a character that sorts before ","."""
    return all(min(pid) > "," for pid in project_ids if pid)


def _canonical_keys(kind, counts, projects, header, all_rows, vote_start, fail, rational) -> tuple[dict, dict]:
    """Canonical ballot key for every distinct raw vote text: the ids joined by ","
    (sorted for approval / choose-1, in ranking order without repeats for ordinal),
    or the pair (ids tuple, points tuple) for cumulative / scoring.

    Returns (raw text -> key, key -> the ballot's ids as a tuple).

    Groups are sorted by their ids tuple (then points), as ``build_profile`` does, which
    makes the group order independent of the order of the voters; the joined text is
    the sort key where it sorts the same way and faster (``_joined_sorts_as_tuples``).

    Errors name the first line using the bad vote (found by a second pass).
    """
    known = set(projects)
    points_column = "points" in header
    set_kind = kind in _SET_KINDS
    canon: dict = {}
    for raw in counts:
        vote_text = raw[0] if points_column else raw
        try:
            if vote_text and " " not in vote_text and "\t" not in vote_text:
                ids = vote_text.split(",")
                if "" in ids:
                    ids = [part for part in ids if part]
            else:
                ids = _split_ids(vote_text.strip())
            if len(ids) == 1 and _is_none(ids[0]) and ids[0] not in known:
                ids = []  # a "none" vote: an empty ballot
            if set_kind:
                idset = set(ids)
                if not idset <= known:
                    raise _unknown(ids, known)
                key = ",".join(sorted(idset))
            elif kind == "ordinal":
                if not known.issuperset(ids):
                    raise _unknown(ids, known)
                key = ",".join(dict.fromkeys(ids))
            else:
                if not known.issuperset(ids):
                    raise _unknown(ids, known)
                key = _points_key(ids, raw[1] if points_column else "", rational)
        except _BallotError as error:
            raise fail(str(error), _first_row_with(all_rows, vote_start, header, raw)) from None
        canon[raw] = key
    if kind in _POINTS_KINDS:
        return canon, {key: key[0] for key in canon.values()}
    return canon, {key: (tuple(key.split(",")) if key else ()) for key in canon.values()}


def _unknown(ids, known) -> "_BallotError":
    missing = [project_id for project_id in ids if project_id not in known]
    return _BallotError(f"unknown project id {missing[0]!r} in vote")


class _BallotError(Exception):
    pass


def _points_key(ids: list[str], points_text: str, rational: type | None = None) -> tuple:
    points_text = points_text.strip()
    if _is_none(points_text):
        points_text = ""
    raw_points = [part.strip() for part in points_text.split(",")] if points_text else []
    raw_points = [part for part in raw_points if part]
    if len(raw_points) != len(ids):
        raise _BallotError(
            f"vote lists {len(ids)} project(s) but points lists {len(raw_points)} value(s)"
        )
    values: dict[str, Number] = {}
    for project_id, point in zip(ids, raw_points):
        try:
            values[project_id] = parse_number(point, rational)
        except ValueError:
            raise _BallotError(f"points value {point!r} is not a number") from None
    # canonical: decreasing points, then project id (the order written is not kept)
    order = sorted(values, key=lambda pid: (-values[pid], pid))
    return (tuple(order), tuple(values[pid] for pid in order))


def _raw_key(row: list[str], vote_index: int, points_index: int):
    """The counting key of a VOTES row: its raw vote text, with the raw points text
    when there is a points column (missing fields read as empty)."""
    vote = row[vote_index] if len(row) > vote_index else ""
    if points_index < 0:
        return vote
    return (vote, row[points_index] if len(row) > points_index else "")


def _first_row_with(all_rows, start: int, header: list[str], raw) -> int | None:
    """Index of the first VOTES row whose raw vote (and points) text is ``raw``."""
    vote_index = header.index("vote")
    points_index = header.index("points") if "points" in header else -1
    for index in range(start, len(all_rows)):
        row = all_rows[index]
        key = _raw_key(row, vote_index, points_index)
        if key == raw:
            return index
    return None


def _build_voters(voter_rows, header, kind, ballots) -> tuple[Voter, ...]:
    vote_index = header.index("vote")
    points_index = header.index("points") if "points" in header else -1
    id_index = header.index("voter_id") if "voter_id" in header else -1
    drop = {vote_index, id_index}
    if kind in _POINTS_KINDS:
        drop.add(points_index)
    extra_columns = [(i, name) for i, name in enumerate(header) if i not in drop]
    voters = []
    width = len(header)
    for row in voter_rows:
        key = _raw_key(row, vote_index, points_index)
        extra = {}
        for i, name in extra_columns:
            if i < len(row) and i < width:
                value = row[i].strip()
                if value and not _is_none(value):
                    extra[name] = value
        voter_id = row[id_index].strip() if 0 <= id_index < len(row) else ""
        voters.append(Voter(voter_id, ballots[key], extra))
    return tuple(voters)


# ---------------------------------------------------------------- writing


def write_pb(election: PbElection) -> str:
    """The ``.pb`` text of an election (``\\n`` line endings, minimal CSV quoting).

    META is written as stored, with ``num_projects``, ``num_votes``, ``budget`` and
    ``vote_type`` set from the instance and profile. Voters are written from
    ``election.voters`` if present, else one row per voter of each group with
    ids 1..n. ``read_pb(write_pb(e))`` reproduces the instance, profile and voters.
    """
    instance, profile = election.instance, election.profile
    out = io.StringIO()
    import csv

    writer = csv.writer(out, delimiter=";", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)

    def line(cells: Iterable[str]) -> None:
        writer.writerow([_check_cell(cell) for cell in cells])

    kind = profile.kind
    voters = election.voters
    num_votes = len(voters) if voters is not None else profile.num_voters
    meta: dict[str, str] = dict(election.meta or instance.meta)
    meta["num_projects"] = str(len(instance.projects))
    meta["num_votes"] = str(num_votes)
    meta["budget"] = format_number(instance.budget)
    meta["vote_type"] = kind
    for key, value in profile.limits.items():
        meta[key] = format_number(value)
    out.write("META\n")
    line(["key", "value"])
    for key, value in meta.items():
        line([key, value])

    extra_columns: list[str] = []
    for project in instance.projects.values():
        for key in project.extra:
            if key not in extra_columns:
                extra_columns.append(key)
    has_name = any(project.name for project in instance.projects.values())
    columns = ["project_id", "cost"] + (["name"] if has_name else []) + extra_columns
    out.write("PROJECTS\n")
    line(columns)
    for project in instance.projects.values():
        if "," in project.id or project.id != project.id.strip() or not project.id:
            raise ValueError(f"project id {project.id!r} cannot be written in a vote list")
        cells = [project.id, format_number(project.cost)]
        if has_name:
            cells.append(project.name or "none")
        cells.extend(project.extra.get(key, "none") for key in extra_columns)
        line(cells)

    with_points = kind in _POINTS_KINDS
    out.write("VOTES\n")
    if voters is not None:
        voter_extra: list[str] = []
        for column in election.vote_columns:
            if column not in ("voter_id", "vote") and not (with_points and column == "points"):
                voter_extra.append(column)
        for voter in voters:
            for key in voter.extra:
                if key not in voter_extra:
                    voter_extra.append(key)
        line(["voter_id", "vote"] + (["points"] if with_points else []) + voter_extra)
        for voter in voters:
            cells = [voter.voter_id, ",".join(voter.ballot.items)]
            if with_points:
                cells.append(_points_text(voter.ballot))
            cells.extend(voter.extra.get(key, "none") for key in voter_extra)
            line(cells)
    else:
        line(["voter_id", "vote"] + (["points"] if with_points else []))
        voter_id = 0
        for group in profile.groups:
            vote = ",".join(group.ballot.items)
            points = _points_text(group.ballot) if with_points else None
            for _ in range(group.count):
                voter_id += 1
                line([str(voter_id), vote] + ([points] if with_points else []))
    return out.getvalue()


def _points_text(ballot: Ballot) -> str:
    return ",".join(format_number(value) for value in (ballot.points or ()))


def _check_cell(cell: str) -> str:
    if not isinstance(cell, str):
        raise TypeError(f"cell {cell!r} is not a str")
    return cell
