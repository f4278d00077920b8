"""Reading and validating the /reflect modal: Slack view state in, typed input or field errors out.

Field names are aliased to the modal's block ids, so a validation error's location is the block
that gets the message in `ack(response_action="errors", errors={block_id: message})`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from bot.reflections.blocks import COMPETENCY_BLOCK
from bot.reflections.terms import (
    MAX_AGE_DAYS,
    MAX_MINUTES,
    MAX_TEXT,
    MIN_MINUTES,
    short_day,
)

M = TypeVar("M", bound=BaseModel)
_FIELD_ERROR = "mentorbot_field"


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


Text = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)] | None,
    BeforeValidator(_blank_is_none),
]
FormatSlug = Literal["in_person", "video", "shadowing", "case_review", "other"]
TopicSlug = Literal[
    "clinical-reasoning",
    "documentation-ehr",
    "institutional-communication",
    "cultural-fluency",
    "ethics",
    "wellbeing",
    "career",
]
LevelSlug = Literal["not_yet", "developing", "demonstrated"]
# Literal copies of bot.reflections.terms, for mypy and pydantic alike (a test keeps them in step).


def _field_error(message: str) -> PydanticCustomError:
    return PydanticCustomError(_FIELD_ERROR, "{message}", {"message": message})


class SessionFields(BaseModel):
    """When, how long and how: asked only for a new session."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    session_date: date = Field(alias="date")
    duration_minutes: int = Field(alias="duration", ge=MIN_MINUTES, le=MAX_MINUTES)
    format: FormatSlug

    @field_validator("session_date")
    @classmethod
    def _recent_and_not_future(cls, value: date, info: ValidationInfo) -> date:
        today: date = (info.context or {})["today"]
        if value > today:
            raise _field_error(f"That day is in the future. Pick today ({short_day(today)}) or earlier.")
        earliest = today - timedelta(days=MAX_AGE_DAYS)
        if value < earliest:
            raise _field_error(
                f"Sessions can be logged up to {MAX_AGE_DAYS} days back "
                f"(the earliest is {short_day(earliest, today=today)})."
            )
        return value


class ReflectionFields(BaseModel):
    """One side's reflection; competencies only from the mentor (checked by the service)."""

    model_config = ConfigDict(frozen=True)

    topics: tuple[TopicSlug, ...] = ()
    competencies: dict[str, LevelSlug] = {}
    learned: Text = None
    share: Literal["private", "anonymous", "named"] = "private"
    next_steps: Text = None
    private_notes: Text = None

    @field_validator("competencies")
    @classmethod
    def _known_competencies(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        known: tuple[str, ...] = (info.context or {}).get("competencies", ())
        for slug in value:
            if slug not in known:
                raise PydanticCustomError(
                    _FIELD_ERROR,
                    "{message}",
                    {"message": "This competency is no longer in the program.", "slug": slug},
                )
        return value


@dataclass(frozen=True)
class ParsedForm:
    session: SessionFields | None  # None when reflecting on an existing session
    reflection: ReflectionFields | None
    errors: dict[str, str]


def parse_form(
    values: dict[str, Any], *, new_session: bool, today: date, competencies: tuple[str, ...]
) -> ParsedForm:
    """Validate the modal's values (block id -> value, as from `state_values`)."""
    errors: dict[str, str] = {}
    fields = None
    if new_session:
        data = {key: values.get(key) for key in ("date", "duration", "format")}
        fields = _validate(SessionFields, data, {"today": today}, errors)
    data = {
        "topics": values.get("topics") or (),
        "competencies": {
            key.removeprefix(COMPETENCY_BLOCK): level
            for key, level in values.items()
            if key.startswith(COMPETENCY_BLOCK) and level
        },
        **{key: values.get(key) for key in ("learned", "next_steps", "private_notes")},
        "share": values.get("share") or "private",
    }
    reflection = _validate(ReflectionFields, data, {"competencies": competencies}, errors)
    return ParsedForm(fields, reflection, errors)


def _validate(
    model: type[M], data: dict[str, Any], context: dict[str, Any], errors: dict[str, str]
) -> M | None:
    clean = {key: value for key, value in data.items() if value is not None}
    try:
        return model.model_validate(clean, context=context)
    except ValidationError as exc:
        for detail in exc.errors():
            errors.setdefault(_block_id(detail), _message(detail))
        return None


def _block_id(detail: ErrorDetails) -> str:
    loc = detail["loc"]
    if loc and loc[0] == "competencies":
        slug = detail.get("ctx", {}).get("slug") or (loc[1] if len(loc) > 1 else "")
        return f"{COMPETENCY_BLOCK}{slug}"
    return str(loc[0]) if loc else "date"


_MESSAGES: dict[str, str] = {
    "date": "Pick the day of the session.",
    "duration": f"Enter the length in whole minutes, from {MIN_MINUTES} to {MAX_MINUTES}.",
    "format": "Choose how the session happened.",
    "topics": "Choose topics from the list.",
    "share": "Choose whether to share what you learned.",
}


def _message(detail: ErrorDetails) -> str:
    if detail["type"] == _FIELD_ERROR:
        return str(detail["msg"])
    if detail["type"] == "string_too_long":
        length = len(str(detail.get("input") or ""))
        return f"Please keep this under {MAX_TEXT:,} characters (it has {length:,})."
    key = _block_id(detail)
    if key.startswith(COMPETENCY_BLOCK):
        return "Choose not yet, developing or demonstrated."
    return _MESSAGES.get(key, "Please check this field.")
