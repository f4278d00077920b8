"""Models and loader for ``programs.yml``, the operator-edited description of each mentorship program.

Validation problems are collected into one :class:`ConfigError` whose lines read like
``programs.yml: programs[0].timezone: 'Mars/Olympus' is not a known IANA timezone`` so an operator can
fix every mistake in a single pass instead of one restart per typo.
"""

import os
import re
from collections.abc import Callable, Hashable, Iterator, Sequence
from datetime import time
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MIN_ANONYMITY_GROUP = 3
MAX_COMPETENCIES = 40  # see Program.competencies

WeekdayName = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Loc = tuple[str | int, ...]

_SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")
_USER_RE = re.compile(r"[UW][A-Z0-9]{2,}")
_CHANNEL_RE = re.compile(r"[CG][A-Z0-9]{2,}")
_TIME_RE = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")

# Error type for every problem raised by our own validators: their message is already operator-ready.
_PROBLEM = "mentorbot_config"


class ConfigError(Exception):
    """All problems found in one programs file."""

    def __init__(self, path: str, problems: list[str]) -> None:
        super().__init__(path, problems)
        self.path = path
        self.problems = problems

    def lines(self) -> list[str]:
        """Return one ``FILE: key.path: reason`` line per problem."""
        return [f"{self.path}: {problem}" for problem in self.problems]

    def one_line(self) -> str:
        """All problems as ``FILE: key.path: reason; key.path: reason``, for a single log line."""
        return f"{self.path}: {'; '.join(self.problems)}"

    def __str__(self) -> str:
        return "\n".join(self.lines())


# --- value checks ---------------------------------------------------------------------------------------


def _problem(reason: str, *subloc: str | int) -> PydanticCustomError:
    """Build a validation error whose message is shown to the operator verbatim.

    ``subloc`` extends the error's location, so a check on a whole list can point at one item.
    """
    # The reason travels in the context so braces in operator input are never read as placeholders.
    return PydanticCustomError(_PROBLEM, "{reason}", {"reason": reason, "subloc": subloc})


def _show(value: object) -> str:
    """Render a parsed YAML value roughly the way the operator wrote it."""
    if isinstance(value, str):
        return f"'{value}'"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return str(value)


def _slug(kind: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        if isinstance(value, str) and _SLUG_RE.fullmatch(value):
            return value
        raise _problem(
            f"{_show(value)} is not a valid {kind} "
            "(use 2-40 lowercase letters, digits and dashes, not starting with a dash)"
        )

    return check


def _slack_user_id(value: object) -> str:
    if isinstance(value, str) and _USER_RE.fullmatch(value):
        return value
    raise _problem(f"{_show(value)} is not a Slack user id (like U0123ABCD)")


def _slack_channel_id(value: object) -> str:
    if isinstance(value, str) and _CHANNEL_RE.fullmatch(value):
        return value
    raise _problem(f"{_show(value)} is not a Slack channel id (like C0123ABCD)")


def _weekday(value: object) -> str:
    if isinstance(value, str):
        key = value.strip().lower()
        if key in WEEKDAYS:
            return key
        if key in _FULL_WEEKDAYS:
            return WEEKDAYS[_FULL_WEEKDAYS.index(key)]
    raise _problem(f"{_show(value)} is not a weekday (use {', '.join(WEEKDAYS)})")


def _clock_time(value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and (match := _TIME_RE.fullmatch(value.strip())):
        return time(int(match[1]), int(match[2]))
    raise _problem(f'{_show(value)} is not a time of day (use 24-hour HH:MM in quotes, like "16:00")')


def _timezone(value: object) -> str:
    if isinstance(value, str) and _zone_exists(value):
        return value
    raise _problem(f"{_show(value)} is not a known IANA timezone")


def _zone_exists(key: str) -> bool:
    try:
        ZoneInfo(key)
    # Malformed keys raise ValueError and directory names like "America" raise OSError, not NotFound.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _anonymity_floor(value: int) -> int:
    if value < MIN_ANONYMITY_GROUP:
        raise _problem(f"{value} is too small: anonymity needs groups of at least {MIN_ANONYMITY_GROUP}")
    return value


def _duplicates(values: Sequence[object]) -> Iterator[tuple[int, str, int]]:
    """Yield ``(index, value, first_index)`` for every string that repeats an earlier one."""
    first: dict[str, int] = {}
    for index, value in enumerate(values):
        if isinstance(value, str):
            earlier = first.setdefault(value, index)
            if earlier != index:
                yield index, value, earlier


def _unique(field: str, kind: str) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
    def check(items: tuple[str, ...]) -> tuple[str, ...]:
        for index, value, earlier in _duplicates(items):
            raise _problem(f"duplicate {kind} '{value}' (also {field}[{earlier}])", index)
        return items

    return check


def _none_as_empty(value: object) -> object:
    # A key written with nothing under it ("privacy:") parses as null; the operator means "use defaults".
    return {} if value is None else value


ProgramId = Annotated[str, BeforeValidator(_slug("program id"))]
CompetencySlug = Annotated[str, BeforeValidator(_slug("competency slug"))]
SlackUserId = Annotated[str, BeforeValidator(_slack_user_id)]
SlackChannelId = Annotated[str, BeforeValidator(_slack_channel_id)]
Weekday = Annotated[WeekdayName, BeforeValidator(_weekday)]
ClockTime = Annotated[time, BeforeValidator(_clock_time)]
TimezoneName = Annotated[str, BeforeValidator(_timezone)]
TracksDirectory = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]


# --- models ---------------------------------------------------------------------------------------------


class _FrozenModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DigestConfig(_FrozenModel):
    """Where and when the weekly coordinator digest is posted."""

    channel: SlackChannelId
    weekday: Weekday = "mon"
    time: ClockTime = time(8, 0)

    @property
    def weekday_index(self) -> int:
        """Weekday as an int, Monday=0 (same convention as ``datetime.weekday()``)."""
        return WEEKDAYS.index(self.weekday)


class CheckinConfig(_FrozenModel):
    """Check-in schedule; ``local_time`` is interpreted in each mentee's own Slack timezone."""

    cadence: Literal["weekly", "biweekly"] = "weekly"
    weekday: Weekday = "thu"
    local_time: ClockTime = time(16, 0)
    reminder_after_hours: Annotated[int, Strict(), Field(ge=1, le=168)] = 24
    # validate_default so a raised reminder is still checked against the default expiry.
    expire_after_hours: Annotated[int, Strict(), Field(ge=1, le=336, validate_default=True)] = 96

    @property
    def weekday_index(self) -> int:
        """Weekday as an int, Monday=0 (same convention as ``datetime.weekday()``)."""
        return WEEKDAYS.index(self.weekday)

    @field_validator("expire_after_hours")
    @classmethod
    def _expire_after_reminder(cls, value: int, info: ValidationInfo) -> int:
        reminder = info.data.get("reminder_after_hours")
        if reminder is not None and value <= reminder:
            raise _problem(f"must be greater than reminder_after_hours ({reminder}), got {value}")
        return value


class PrivacyConfig(_FrozenModel):
    """Anonymity and retention limits for aggregated reporting."""

    min_group_size: Annotated[int, Strict(), AfterValidator(_anonymity_floor)] = 5
    retention_days: Annotated[int, Strict(), Field(ge=30)] | None = None


class EscalationConfig(_FrozenModel):
    """Where urgent concerns go when they implicate a mentor or coordinator."""

    user: SlackUserId | None = None
    channel: SlackChannelId | None = None

    @model_validator(mode="after")
    def _needs_a_target(self) -> Self:
        if self.user is None and self.channel is None:
            raise _problem("needs a user, a channel, or both")
        return self


class CmeConfig(_FrozenModel):
    """Continuing-medical-education credit accrual for mentors."""

    credits_per_hour: Annotated[float, Strict(), Field(gt=0, le=4, allow_inf_nan=False)] = 1.0
    max_credits_per_year: Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)] = 20.0


class PairsConfig(_FrozenModel):
    """Pair-health expectations."""

    session_expected_every_days: Annotated[int, Strict(), Field(ge=7, le=365)] = 30


MUST = "must"
MATCHING_CRITERIA = (
    "specialty",
    "department",
    "languages",
    "trained_in",
    "focus",
    "format",
    "times",
    "ranking",
)
DEFAULT_FOCUS_AREAS = (
    "Clinical reasoning",
    "Documentation and EHR",
    "Institutional communication",
    "Cultural fluency",
    "Ethics",
    "Wellbeing",
    "Career",
    "Research",
)
MAX_WEIGHT = 20


def _weight(value: object) -> int | str:
    if value == MUST:
        return MUST
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_WEIGHT:
        return value
    raise _problem(
        f'{_show(value)} is not a weight (use a whole number from 0 to {MAX_WEIGHT}, or "must" to require it)'
    )


Weight = Annotated[int | Literal["must"], BeforeValidator(_weight)]
FocusArea = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class MatchingCriteria(_FrozenModel):
    """Points a pair earns per criterion it shares, or "must": a pair that does not share it is never made."""

    specialty: Weight = 5
    department: Weight = 0
    languages: Weight = 3
    trained_in: Weight = 2
    focus: Weight = 2  # per focus area the mentee asked for and the mentor offers
    format: Weight = 1  # in person / video
    times: Weight = 1  # preferred times
    ranking: Weight = 4  # the mentee's first choice; the second earns 2/3 of it, the third 1/3


class MatchingExclusions(_FrozenModel):
    """Hard rules: pairs they exclude are never proposed, whatever they would score."""

    same_department: Annotated[bool, Strict()] = False
    reporting_line: Annotated[bool, Strict()] = True  # from the profiles CSV's reports_to column
    avoid_lists: Annotated[bool, Strict()] = True  # each person's own "never match me with" list


class MatchingConfig(_FrozenModel):
    """Opt-in profiles and proposed matches (`/mentorship join`, `mentorbot match`)."""

    criteria: Annotated[MatchingCriteria, BeforeValidator(_none_as_empty)] = Field(
        default_factory=MatchingCriteria
    )
    exclusions: Annotated[MatchingExclusions, BeforeValidator(_none_as_empty)] = Field(
        default_factory=MatchingExclusions
    )
    cooldown_days: Annotated[int, Strict(), Field(ge=0, le=3650)] = 365
    show_mentor_names: Annotated[bool, Strict()] = True
    focus_areas: Annotated[
        tuple[FocusArea, ...],
        Field(min_length=1, max_length=50),
        AfterValidator(_unique("focus_areas", "focus area")),
    ] = DEFAULT_FOCUS_AREAS
    default_capacity: Annotated[int, Strict(), Field(ge=1, le=20)] = 2

    @model_validator(mode="after")
    def _department_rewarded_or_excluded(self) -> Self:
        if self.exclusions.same_department and self.criteria.department != 0:
            raise _problem(
                "can't count the same department toward a match while exclusions.same_department "
                "forbids it: set one of them to 0 / false",
                "criteria",
                "department",
            )
        return self


MAX_PAIR_MONTH = 60


def _pair_months(months: tuple[int, ...]) -> tuple[int, ...]:
    if list(months) != sorted(set(months)):
        raise _problem(f"{list(months)} must list different months in increasing order, like [3, 12]")
    return months


PairMonth = Annotated[int, Strict(), Field(ge=1, le=MAX_PAIR_MONTH)]
PairMonths = Annotated[tuple[PairMonth, ...], AfterValidator(_pair_months)]


class InstrumentSchedule(_FrozenModel):
    """One validated instrument (bot/instruments/data) sent as a survey on a calendar or pair cadence.

    Which ids exist, and which rate the mentor (those go by `pair_months`), is checked against the
    catalogue by bot.instruments.config: the kernel knows no feature's data.
    """

    id: Annotated[str, BeforeValidator(_slug("instrument id"))]
    cadence: Literal["monthly", "quarterly"] | None = None
    pair_months: PairMonths = ()  # months since the pair started, for instruments about the mentor

    @model_validator(mode="after")
    def _one_cadence(self) -> Self:
        if (self.cadence is None) == (not self.pair_months):
            raise _problem(
                "needs either cadence (monthly or quarterly) or pair_months (like [3, 12]), not both"
            )
        return self


def _unique_instruments(items: tuple[InstrumentSchedule, ...]) -> tuple[InstrumentSchedule, ...]:
    for index, value, earlier in _duplicates([item.id for item in items]):
        raise _problem(f"duplicate instrument '{value}' (also instruments[{earlier}])", index, "id")
    return items


class Program(_FrozenModel):
    """One mentorship program (cohort) as configured by its operators."""

    id: ProgramId
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    timezone: TimezoneName
    coordinators: Annotated[
        tuple[SlackUserId, ...], Field(min_length=1), AfterValidator(_unique("coordinators", "user id"))
    ]
    digest: DigestConfig
    checkins: CheckinConfig
    privacy: Annotated[PrivacyConfig, BeforeValidator(_none_as_empty)] = Field(default_factory=PrivacyConfig)
    # At most MAX_COMPETENCIES: /reflect and the attestation modal give each its own select, and a modal
    # holds 100 blocks (frameworks in use have 6 to about 30).
    competencies: Annotated[
        tuple[CompetencySlug, ...],
        Field(min_length=1, max_length=MAX_COMPETENCIES),
        AfterValidator(_unique("competencies", "competency")),
    ]
    max_mentees_per_mentor: Annotated[int, Strict(), Field(ge=1)] | None = None
    escalation: EscalationConfig | None = None
    cme: CmeConfig | None = None
    pairs: Annotated[PairsConfig, BeforeValidator(_none_as_empty)] = Field(default_factory=PairsConfig)
    # Absent or null: this program matches nobody; `matching: {}` matches with the defaults. (Null stays
    # "off" so that a dumped configuration validates back to the same thing.)
    matching: MatchingConfig | None = None
    # A directory of supervised-practice track files for this program, relative to this file: a file
    # there replaces the shipped track with the same id, or adds one (validated by bot.tracks.catalog).
    tracks: TracksDirectory | None = None
    # Validated instruments sent as surveys, each on its own cadence (bot.instruments.surveys).
    instruments: Annotated[tuple[InstrumentSchedule, ...], AfterValidator(_unique_instruments)] = ()

    @property
    def tz(self) -> ZoneInfo:
        """The program's timezone (validated at load time, so this cannot fail)."""
        return ZoneInfo(self.timezone)


class ProgramsConfig(_FrozenModel):
    """Everything in one ``programs.yml``."""

    programs: Annotated[list[Program], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        for index, value, earlier in _duplicates([program.id for program in self.programs]):
            raise _problem(_duplicate_id_reason(value, earlier), "programs", index, "id")
        return self

    @property
    def ids(self) -> list[str]:
        """Program ids in file order."""
        return [program.id for program in self.programs]

    def get(self, program_id: str) -> Program | None:
        """Return the program with this id, or None."""
        return next((program for program in self.programs if program.id == program_id), None)

    def by_coordinator(self, user_id: str) -> list[Program]:
        """Return the programs this Slack user coordinates, in file order."""
        return [program for program in self.programs if user_id in program.coordinators]


def _duplicate_id_reason(value: str, earlier: int) -> str:
    return f"duplicate program id '{value}' (also programs[{earlier}])"


# --- turning pydantic errors into operator lines ----------------------------------------------------------

_REASONS: dict[str, str] = {
    "missing": "required key is missing",
    "extra_forbidden": "unknown key",
    "int_type": "expected a whole number, got {input}",
    "int_parsing": "expected a whole number, got {input}",
    "int_from_float": "expected a whole number, got {input}",
    "float_type": "expected a number, got {input}",
    "float_parsing": "expected a number, got {input}",
    "finite_number": "expected a finite number, got {input}",
    "bool_type": "expected true or false, got {input}",
    "bool_parsing": "expected true or false, got {input}",
    "string_type": "expected text, got {input}",
    "string_too_short": "must not be empty",
    "string_too_long": "is too long (at most {max_length} characters)",
    "too_short": "must list at least one entry",
    "too_long": "must list at most {max_length} entries, got {actual_length}",
    "list_type": "expected a list, got {input}",
    "tuple_type": "expected a list, got {input}",
    "model_type": "expected a mapping of keys, got {input}",
    "model_attributes_type": "expected a mapping of keys, got {input}",
    "dict_type": "expected a mapping of keys, got {input}",
    "greater_than_equal": "must be at least {ge}, got {input}",
    "greater_than": "must be greater than {gt}, got {input}",
    "less_than_equal": "must be at most {le}, got {input}",
    "less_than": "must be less than {lt}, got {input}",
    "literal_error": "{input} is not allowed (use {expected})",
}


def _show_bound(value: object) -> str:
    # Float fields report their limits as 4.0; the operator wrote 4.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _reason(detail: ErrorDetails) -> str:
    """Reword one pydantic error for an operator who has never heard of pydantic."""
    if detail["type"] == _PROBLEM:
        return detail["msg"]
    template = _REASONS.get(detail["type"])
    if template is None:
        message = detail["msg"]
        return message[:1].lower() + message[1:]
    context = {key: _show_bound(value) for key, value in detail.get("ctx", {}).items()}
    return template.format_map({**context, "input": _show(detail["input"])})


def _located(detail: ErrorDetails) -> tuple[Loc, str]:
    subloc: Loc = tuple(detail.get("ctx", {}).get("subloc", ()))
    return tuple(detail["loc"]) + subloc, _reason(detail)


def _format_loc(loc: Loc) -> str:
    """Render ``("programs", 0, "checkins", "weekday")`` as ``programs[0].checkins.weekday``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


_PROGRAM_KEYS = list(Program.model_fields)


def _reading_order(loc: Loc) -> tuple[int, int]:
    """Sort key putting problems in the order an operator reads the file: program, then key."""
    if len(loc) < 2 or loc[0] != "programs" or not isinstance(loc[1], int):
        return (-1, 0)
    key = loc[2] if len(loc) > 2 else None
    # Unknown keys have no place in the model, so they go after the known ones.
    rank = _PROGRAM_KEYS.index(key) if key in _PROGRAM_KEYS else len(_PROGRAM_KEYS)
    return (loc[1], rank)


def _render(found: list[tuple[Loc, str]]) -> list[str]:
    # The same duplicate id can come from both the model and the raw-data scan; report it once.
    unique = list(dict.fromkeys(found))
    unique.sort(key=lambda item: _reading_order(item[0]))
    return [f"{_format_loc(loc)}: {reason}" if loc else reason for loc, reason in unique]


def _raw_duplicate_ids(data: dict[Any, Any]) -> list[tuple[Loc, str]]:
    """Find duplicate program ids even in programs pydantic rejected for other reasons."""
    programs = data.get("programs")
    if not isinstance(programs, list):
        return []
    ids = [program.get("id") if isinstance(program, dict) else None for program in programs]
    return [
        (("programs", index, "id"), _duplicate_id_reason(value, earlier))
        for index, value, earlier in _duplicates(ids)
    ]


def parse_programs(data: object, *, source: str = "programs.yml") -> ProgramsConfig:
    """Validate already-parsed YAML; raise :class:`ConfigError` listing every problem at once."""
    if data is None:
        raise ConfigError(source, ["file is empty (expected a top-level 'programs:' list)"])
    if not isinstance(data, dict):
        raise ConfigError(source, [f"expected a top-level 'programs:' list, got {_show(data)}"])
    try:
        return ProgramsConfig.model_validate(data)
    except ValidationError as exc:
        found = [_located(detail) for detail in exc.errors()] + _raw_duplicate_ids(data)
        raise ConfigError(source, _render(found)) from exc


# --- reading the file ---------------------------------------------------------------------------------

_INT_TAG = "tag:yaml.org,2002:int"
# PyYAML's int pattern minus the YAML 1.1 base-60 form.
_INT_WITHOUT_BASE_60 = re.compile(
    r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"
)


class _DuplicateKeyError(yaml.constructor.ConstructorError):
    pass


class _ProgramsLoader(yaml.SafeLoader):
    """Safe loader that rejects duplicate keys instead of silently keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        _reject_duplicate_keys(node)
        return super().construct_mapping(node, deep=deep)


# YAML 1.1 reads an unquoted 16:00 as the base-60 integer 960; operators always mean a clock time.
_ProgramsLoader.yaml_implicit_resolvers = {
    first_char: [(tag, regexp) for tag, regexp in resolvers if tag != _INT_TAG]
    for first_char, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ProgramsLoader.add_implicit_resolver(_INT_TAG, _INT_WITHOUT_BASE_60, list("-+0123456789"))


def _reject_duplicate_keys(node: yaml.MappingNode) -> None:
    first_line: dict[str, int] = {}
    for key_node, _value in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        line = key_node.start_mark.line + 1
        if key_node.value in first_line:
            problem = f"duplicate key '{key_node.value}' (also on line {first_line[key_node.value]})"
            raise _DuplicateKeyError(problem=problem, problem_mark=key_node.start_mark)
        first_line[key_node.value] = line


def _yaml_problem(exc: yaml.YAMLError) -> str:
    if not isinstance(exc, yaml.MarkedYAMLError) or exc.problem_mark is None:
        return f"YAML syntax error: {exc}"
    line = exc.problem_mark.line + 1
    if isinstance(exc, _DuplicateKeyError):
        return f"line {line}: {exc.problem}"
    detail = exc.problem or "cannot parse"
    if exc.context:
        detail = f"{detail} ({exc.context})"
    return f"line {line}: YAML syntax error: {detail}"


def _read_text(source: str) -> str:
    try:
        with open(source, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError as exc:
        raise ConfigError(source, ["file not found"]) from exc
    except IsADirectoryError as exc:
        raise ConfigError(source, ["is a directory, not a file"]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(source, [f"is not UTF-8 text (byte {exc.start})"]) from exc
    except OSError as exc:
        raise ConfigError(source, [f"cannot read file: {exc.strerror or exc}"]) from exc


def load_programs(path: str | os.PathLike[str]) -> ProgramsConfig:
    """Read and validate a programs file; raise :class:`ConfigError` listing every problem at once."""
    source = os.fspath(path)
    return parse_programs_text(read_programs_text(source), source=source)


def read_programs_text(source: str) -> str:
    """The file's text; a missing, unreadable or non-UTF-8 file raises :class:`ConfigError`."""
    return _read_text(source)


def parse_programs_text(text: str, *, source: str) -> ProgramsConfig:
    """Validate a programs file's text (already read, so a reload validates exactly what it hashed)."""
    try:
        data = yaml.load(text, Loader=_ProgramsLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(source, [_yaml_problem(exc)]) from exc
    return parse_programs(data, source=source)


# --- summary ----------------------------------------------------------------------------------------------


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _describe(program: Program) -> str:
    checkins = program.checkins
    coordinators = _plural(len(program.coordinators), "coordinator")
    schedule = f"{checkins.cadence} {checkins.weekday} {checkins.local_time:%H:%M}"
    return f"{program.id} ({coordinators}, {schedule})"


def summarize(config: ProgramsConfig) -> str:
    """One log-friendly line, e.g. ``2 programs: img-2026 (3 coordinators, weekly thu 16:00), ...``."""
    described = ", ".join(_describe(program) for program in config.programs)
    return f"{_plural(len(config.programs), 'program')}: {described}"


# The same words for the same mistakes in every config file an operator writes (track files too).
config_problem = _problem
show_value = _show
operator_reason = _reason
