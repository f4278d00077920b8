"""Reading and validating the idea modals: Slack view state in, typed input or field errors out.

Field names are the modals' block ids, so a validation error lands next to its field. Every free-text
field goes through the PHI guard: a likely patient identifier is a field error naming what was found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
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

from bot.ideas.terms import MAX_SUMMARY, MAX_TEST_DAYS, MAX_TEXT
from bot.kernel.phi_guard import find_phi
from bot.kernel.text import day_label

M = TypeVar("M", bound=BaseModel)
_FIELD_ERROR = "mentorbot_field"


def _field_error(message: str) -> PydanticCustomError:
    return PydanticCustomError(_FIELD_ERROR, "{message}", {"message": message})


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _no_phi(value: str | None) -> str | None:
    finding = find_phi(value) if value else None
    if finding is not None:
        raise _field_error(finding.message())
    return value


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_TEXT),
    BeforeValidator(_blank_is_none),
    AfterValidator(_no_phi),
]
Summary = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_SUMMARY),
    BeforeValidator(_blank_is_none),
    AfterValidator(_no_phi),
]
OptionalText = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)] | None,
    BeforeValidator(_blank_is_none),
    AfterValidator(_no_phi),
]
AffectSlug = Literal["patients", "unit", "workflow"]
OutcomeSlug = Literal["as_predicted", "partly", "not_as_predicted"]
DecisionSlug = Literal["adopt", "adapt", "abandon"]
LevelSlug = Literal["developing", "demonstrated"]
# Literal copies of bot.ideas.terms, for mypy and pydantic alike (a test keeps them in step).


class _Form(BaseModel):
    model_config = ConfigDict(frozen=True)


class NewIdeaForm(_Form):
    idea_pair: int | None = None  # asked only of someone in several pairs
    summary: Summary
    observation: Text
    affects: tuple[AffectSlug, ...] = Field(min_length=1)
    change: Text
    share: tuple[Literal["coordinators"], ...] = ()


class PlanForm(_Form):
    prediction: Text
    measure: Text
    scope: Text
    test_date: date

    @field_validator("test_date")
    @classmethod
    def _soon_and_not_past(cls, value: date, info: ValidationInfo) -> date:
        today: date = (info.context or {})["today"]
        latest = today + timedelta(days=MAX_TEST_DAYS)
        if value < today:
            raise _field_error(f"Pick today ({day_label(today)}) or a later day: plan the test ahead.")
        if value > latest:
            raise _field_error(f"Plan a test within {MAX_TEST_DAYS} days (by {day_label(latest)}).")
        return value


class DoForm(_Form):
    happened: Text


class StudyForm(_Form):
    outcome: OutcomeSlug
    result: Text


class ActForm(_Form):
    decision: DecisionSlug
    decision_notes: OptionalText = None


class CommentForm(_Form):
    comment: Text


class EvidenceForm(_Form):
    session: int
    competency: str
    level: LevelSlug


@dataclass(frozen=True)
class Parsed(Generic[M]):
    form: M | None
    errors: dict[str, str]


def parse(model: type[M], values: dict[str, Any], *, today: date | None = None) -> Parsed[M]:
    """Validate a modal's values (block id -> value, as from `state_values`) against `model`."""
    clean = {key: value for key, value in values.items() if key in model.model_fields and value is not None}
    try:
        return Parsed(model.model_validate(clean, context={"today": today}), {})
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for detail in exc.errors():
            key = str(detail["loc"][0]) if detail["loc"] else next(iter(model.model_fields))
            errors.setdefault(key, _message(key, detail))
        return Parsed(None, errors)


_MISSING: dict[str, str] = {
    "idea_pair": "Choose the pair this idea is for.",
    "affects": "Choose who it affects.",
    "test_date": "Pick the day of the test.",
    "outcome": "Choose how the result compares with your prediction.",
    "decision": "Choose adopt, adapt or abandon.",
    "session": "Choose the session it rests on.",
    "competency": "Choose a competency.",
    "level": "Choose developing or demonstrated.",
}


def _message(key: str, detail: ErrorDetails) -> str:
    if detail["type"] == _FIELD_ERROR:
        return str(detail["msg"])
    if detail["type"] == "string_too_long":
        limit = MAX_SUMMARY if key == "summary" else MAX_TEXT
        return (
            f"Please keep this under {limit:,} characters (it has {len(str(detail.get('input') or '')):,})."
        )
    return _MISSING.get(key, "Please fill this in.")
