"""Reading and validating the profile modal: Slack view state in, typed answers or field errors out.

Field names are the modal's block ids, so each validation error lands next to the block it is about.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from bot.matching.terms import MAX_AVOID, MAX_LANGUAGES, MAX_RANKS, MAX_TEXT, split_list, tidy
from bot.slack.view_state import state_values

_FIELD_ERROR = "mentorbot_field"
RANK_BLOCKS = tuple(f"rank_{place}" for place in range(1, MAX_RANKS + 1))
MAX_CAPACITY = 20

Answer = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
FormatKey = Literal["in-person", "video"]
TimeKey = Literal["early", "daytime", "evening", "weekend"]
# Literal copies of bot.matching.terms FORMATS and TIMES (a test keeps them in step).


class ProfileAnswers(BaseModel):
    """What someone told us in the profile modal; `ranked` holds the chosen options' values."""

    model_config = ConfigDict(frozen=True)

    role: Literal["mentee", "mentor", "both"]
    specialty: Answer = ""
    department: Answer = ""
    languages: Annotated[tuple[Answer, ...], Field(max_length=MAX_LANGUAGES)] = ()
    trained_in: Answer = ""
    focus: tuple[str, ...] = ()
    formats: tuple[FormatKey, ...] = ()
    times: tuple[TimeKey, ...] = ()
    capacity: Annotated[int, Field(ge=0, le=MAX_CAPACITY)] = 0
    ranked: tuple[str, ...] = ()
    avoid: Annotated[tuple[str, ...], Field(max_length=MAX_AVOID)] = ()

    @model_validator(mode="after")
    def _sensible(self) -> ProfileAnswers:
        if self.role != "mentee" and self.capacity < 1:
            raise PydanticCustomError(
                _FIELD_ERROR,
                "{message}",
                {"message": "Mentors take at least one mentee.", "block": "capacity"},
            )
        for place, value in enumerate(self.ranked[1:], start=2):
            if value in self.ranked[: place - 1]:
                message = "You chose this mentor already: pick someone else, or leave it empty."
                raise PydanticCustomError(
                    _FIELD_ERROR, "{message}", {"message": message, "block": f"rank_{place}"}
                )
        return self


_MESSAGES = {
    "role": "Choose mentee, mentor or both.",
    "languages": f"List at most {MAX_LANGUAGES} languages, separated by commas.",
    "capacity": f"Choose how many mentees you can take (1 to {MAX_CAPACITY}).",
    "avoid": f"Choose at most {MAX_AVOID} people.",
    "focus": "Choose focus areas from the list.",
}


def read_profile_form(
    view: dict[str, Any], *, focus_areas: tuple[str, ...]
) -> ProfileAnswers | dict[str, str]:
    """The answers in a submitted profile modal, or {block id: what to fix}."""
    values = state_values(view)
    ranked = tuple(values[block] for block in RANK_BLOCKS if values.get(block))
    data = {
        "role": values.get("role"),
        "specialty": tidy(values.get("specialty") or ""),
        "department": tidy(values.get("department") or ""),
        "languages": tuple(split_list(values.get("languages") or "")),
        "trained_in": tidy(values.get("trained_in") or ""),
        "focus": tuple(area for area in values.get("focus") or () if area in focus_areas),
        "formats": tuple(values.get("formats") or ()),
        "times": tuple(values.get("times") or ()),
        "capacity": int(values.get("capacity") or 0),
        "ranked": ranked,
        "avoid": tuple(values.get("avoid") or ()),
    }
    try:
        return ProfileAnswers.model_validate(data)
    except ValidationError as exc:
        return {_block_of(detail): _message(detail) for detail in reversed(exc.errors())}


def _block_of(detail: ErrorDetails) -> str:
    block = detail.get("ctx", {}).get("block")
    if block:
        return str(block)
    loc = detail["loc"]
    return str(loc[0]) if loc else "role"


def _message(detail: ErrorDetails) -> str:
    if detail["type"] == _FIELD_ERROR:
        return str(detail["msg"])
    if detail["type"] == "string_too_long":
        return f"Please keep this to {MAX_TEXT} characters."
    return _MESSAGES.get(_block_of(detail), "Please check this field.")
