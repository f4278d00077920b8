"""Track files: the shipped `bot/tracks/data/*.yml` and a program's own directory, validated strictly.

A track is data: phases of topics timed from a start date, the competencies that need evidence in each
review period, who attests, and for a state pathway the citation it rests on. A program's `tracks:`
directory (programs.yml, relative to that file) replaces a shipped track with the same id or adds new
ones. Every problem in every file is reported at once, one `FILE: key.path: reason` line each, like
programs.yml (bot.kernel.programs.ConfigError).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Hashable
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
    model_validator,
)

from bot.kernel.programs import (
    MAX_COMPETENCIES,
    ConfigError,
    Program,
    config_problem,
    operator_reason,
    show_value,
)
from bot.reflections.terms import TOPICS

SHIPPED = Path(__file__).with_name("data")
LEVELS = 5  # ACGME milestone levels 1-5; 4 is the usual target for unsupervised practice
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")
_URL = re.compile(r"https?://[^\s<>|]+")
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])(?::00)?")


def _slug(value: object) -> str:
    if isinstance(value, str) and _SLUG.fullmatch(value):
        return value
    raise config_problem(
        f"{show_value(value)} is not a valid id (use 2-40 lowercase letters, digits and dashes)"
    )


def _url(value: object) -> str:
    if isinstance(value, str) and _URL.fullmatch(value):
        return value
    raise config_problem(f"{show_value(value)} is not a web address (like https://example.org/statute)")


def _clock(value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and (match := _TIME.fullmatch(value.strip())):
        return time(int(match[1]), int(match[2]))
    raise config_problem(
        f'{show_value(value)} is not a time of day (use 24-hour HH:MM in quotes, like "09:00")'
    )


def _reflect_topic(value: object) -> str:
    if isinstance(value, str) and value in TOPICS:
        return value
    raise config_problem(f"{show_value(value)} is not a /reflect topic (use one of: {', '.join(TOPICS)})")


Slug = Annotated[str, BeforeValidator(_slug)]
Url = Annotated[str, BeforeValidator(_url)]
ClockTime = Annotated[time, BeforeValidator(_clock)]
ReflectTopic = Annotated[str, BeforeValidator(_reflect_topic)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
Prose = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1500)]
Count = Annotated[int, Strict(), Field(ge=0, le=520)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Offset(_Frozen):
    """A distance from the start date: exactly one of days, weeks or months (months keep the day of the
    month, clamped to the month's last day: 31 January + 1 month is 28 or 29 February)."""

    days: Count | None = None
    weeks: Count | None = None
    months: Count | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [name for name in ("days", "weeks", "months") if getattr(self, name) is not None]
        if len(given) != 1:
            raise config_problem("give exactly one of days, weeks or months (like {months: 3})")
        return self

    @property
    def unit(self) -> str:
        return next(name for name in ("days", "weeks", "months") if getattr(self, name) is not None)

    @property
    def amount(self) -> int:
        value: int = getattr(self, self.unit)
        return value


class Topic(_Frozen):
    """What a journey prompt is about; `reflect` pre-fills /reflect's topic when a session is logged on it."""

    title: Title
    text: Prose
    reflect: ReflectTopic | None = None


class Phase(_Frozen):
    """Topics at `start`, then every `every`, before `until` (all from the start date); topics repeat in
    order when the phase has more dates than topics."""

    id: Slug
    name: Title
    start: Offset
    every: Offset
    until: Offset
    topics: Annotated[tuple[Topic, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _moves_forward(self) -> Self:
        if self.every.amount == 0:
            raise config_problem("every: must be more than zero")
        return self


class Citation(_Frozen):
    """Where a state pathway's rules come from; `verified: false` until someone has read the statute."""

    title: Title
    url: Url
    verified: Annotated[bool, Strict()]
    note: Prose | None = None

    @model_validator(mode="after")
    def _unverified_says_why(self) -> Self:
        if not self.verified and self.note is None:
            raise config_problem("an unverified citation needs a note saying what was not read")
        return self


class Competency(_Frozen):
    """A competency the track needs evidence of; `evidence` lists the program competencies (programs.yml)
    whose observations in confirmed sessions count for it (by default its own id)."""

    id: Slug
    name: Title
    evidence: tuple[Slug, ...] = ()

    @property
    def observed_as(self) -> tuple[str, ...]:
        return self.evidence or (self.id,)


class Reviews(_Frozen):
    """Review periods from the start date; missing evidence is flagged `flag_gaps_before` each close."""

    every: Offset
    flag_gaps_before: Offset


class Attestation(_Frozen):
    """Who attests each review period (a role; the person is named at enrolment) and the milestone level
    (1-5) every competency must reach for the licensee to count as ready."""

    by: Title
    ready_level: Annotated[int, Strict(), Field(ge=1, le=LEVELS)] = 4


class Checkpoint(_Frozen):
    at: Offset
    title: Title
    text: Prose | None = None


class Track(_Frozen):
    """One track file."""

    id: Slug
    name: Title
    kind: Literal["journey", "pathway"]
    jurisdiction: Title | None = None
    citation: Citation | None = None
    summary: Prose
    prompt_time: ClockTime = time(9, 0)
    length: Offset
    phases: Annotated[tuple[Phase, ...], Field(min_length=1)]
    reviews: Reviews | None = None
    # One select each in the attestation modal, which holds 100 blocks: the same bound as programs.yml's.
    competencies: Annotated[tuple[Competency, ...], Field(max_length=MAX_COMPETENCIES)] = ()
    attestation: Attestation | None = None
    checkpoints: tuple[Checkpoint, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.kind == "pathway" and (self.citation is None or self.jurisdiction is None):
            raise config_problem("a pathway needs a jurisdiction and a citation (url, verified, note)")
        if self.reviews is not None and (not self.competencies or self.attestation is None):
            raise config_problem("a track with reviews needs competencies and an attestation")
        ids = [c.id for c in self.competencies]
        if len(set(ids)) != len(ids):
            raise config_problem(
                f"competency ids repeat: {', '.join(sorted({i for i in ids if ids.count(i) > 1}))}"
            )
        return self


# --- errors in operator words --------------------------------------------------------------------------


def _where(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _problems(exc: ValidationError) -> list[str]:
    found = []
    for detail in exc.errors():
        where = _where(tuple(detail["loc"]))
        found.append(f"{where}: {operator_reason(detail)}" if where else operator_reason(detail))
    return list(dict.fromkeys(found))


class TracksInvalid(ConfigError):
    """Problems in one or more track files (or in a program's `tracks:` directory)."""

    def __init__(self, errors: list[ConfigError]) -> None:
        super().__init__(errors[0].path, [p for e in errors for p in e.problems])
        self.errors = errors

    def lines(self) -> list[str]:
        return [line for error in self.errors for line in error.lines()]

    def one_line(self) -> str:
        return "; ".join(self.lines())


# --- reading files -------------------------------------------------------------------------------------

_INT_TAG = "tag:yaml.org,2002:int"
_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$")


class _Loader(yaml.SafeLoader):
    """Rejects duplicate keys, and reads an unquoted 09:00 as text rather than YAML 1.1's base-60 540."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    problem=f"duplicate key '{key_node.value}'", problem_mark=key_node.start_mark
                )
            seen.add(getattr(key_node, "value", ""))
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _INT_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_INT_TAG, _INT, list("-+0123456789"))


def parse_track(text: str, *, source: str) -> Track:
    """Validate one track file's text; raise ConfigError naming the file, key path and reason."""
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ConfigError(
            source, [f"{where}YAML syntax error: {getattr(exc, 'problem', None) or exc}"]
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            source, [f"expected a mapping of keys (id, name, kind, ...), got {show_value(data)}"]
        )
    try:
        return Track.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, _problems(exc)) from None


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    found = []
    for path in sorted(folder.glob("*.yml")):
        stat = path.stat()
        found.append((path.name, stat.st_mtime_ns, stat.st_size))
    return tuple(found)


def load_folder(folder: Path) -> dict[str, Track]:
    """Every track file of a directory by id; TracksInvalid lists every problem of every file."""
    return _load(str(folder), _signature(folder))


@lru_cache(maxsize=32)
def _load(folder: str, signature: tuple[tuple[str, int, int], ...]) -> dict[str, Track]:
    tracks: dict[str, Track] = {}
    errors: list[ConfigError] = []
    for name, _, _ in signature:
        source = os.path.join(folder, name)
        try:
            track = parse_track(Path(source).read_text(encoding="utf-8"), source=source)
        except ConfigError as exc:
            errors.append(exc)
            continue
        if track.id in tracks:
            errors.append(ConfigError(source, [f"id: '{track.id}' is also the id of another file here"]))
        tracks[track.id] = track
    if errors:
        raise TracksInvalid(errors)
    return tracks


def program_folder(program: Program, programs_file: Path) -> Path | None:
    """The program's own track directory (programs.yml `tracks:`, relative to that file), if it has one."""
    if program.tracks is None:
        return None
    return (programs_file.parent / program.tracks).resolve()


def tracks_for(program: Program, *, programs_file: Path, index: int = 0) -> dict[str, Track]:
    """The tracks a program can enrol people on: shipped ones, replaced or added to by its own directory.

    `index` is the program's place in programs.yml, for naming the key of a missing directory.
    """
    tracks = dict(load_folder(SHIPPED))
    folder = program_folder(program, programs_file)
    if folder is None:
        return tracks
    if not folder.is_dir():
        problem = f"programs[{index}].tracks: '{program.tracks}' is not a directory"
        raise TracksInvalid([ConfigError(str(programs_file), [problem])])
    return tracks | load_folder(folder)


def check_all(programs: list[Program], *, programs_file: Path) -> int:
    """Validate the shipped tracks and every program's directory; the number of distinct tracks found.

    Raises TracksInvalid with every problem found, for `mentorbot check-config`.
    """
    errors: list[ConfigError] = []
    found: set[str] = set()

    def collect(read: Callable[[], dict[str, Track]]) -> None:
        try:
            found.update(read())
        except TracksInvalid as exc:
            errors.extend(e for e in exc.errors if all(e.lines() != x.lines() for x in errors))

    collect(lambda: load_folder(SHIPPED))
    for index, program in enumerate(programs):
        collect(functools.partial(tracks_for, program, programs_file=programs_file, index=index))
    if errors:
        raise TracksInvalid(errors)
    return len(found)
