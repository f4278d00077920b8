"""Answering a survey: read the modal, score it, and leave the score encrypted beside the claim.

One transaction marks the claim answered and stores the scored answer, as a Fernet token keyed only by
the claim's id, in instrument_pending (storage.models.instruments). Nothing is written to the released
answers then: a row written there on its own, right after the claim that names its mentee, would be
tied to that mentee by its WAL frames or its PostgreSQL xmin. The answer is released when its period
closes, shuffled with every other answer of the period in one transaction, or discarded when fewer
than min_group_size answered (bot.instruments.release), like the team-climate answers of a check-in
(bot.checkins.climate). Whether a rating of the mentor carries the mentor's pseudonym is decided
then too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.instruments.blocks import ITEM_BLOCK, NOT_APPLICABLE, survey_modal
from bot.instruments.catalog import Instrument, shipped_instruments
from bot.instruments.scoring import InvalidAnswers, score
from bot.instruments.surveys import ANSWER_WINDOW, answer_period, closes_at
from bot.kernel.deps import Deps
from bot.kernel.refusals import Refusal
from bot.slack.blocks import View
from bot.slack.view_state import state_values
from storage.models import InstrumentSurvey
from storage.repositories import instruments as repo

MENTOR_PURPOSE = "instrument-mentor"
UNANSWERED = "Choose an answer."


class SurveyClosed(Refusal):
    """The survey is not this person's, is already answered, or was never sent."""


@dataclass(frozen=True)
class Parsed:
    answers: dict[int, int | None]  # item -> answer, None for not applicable
    errors: dict[str, str]  # block id -> message, for response_action errors


def mentor_key(deps: Deps, *, program_id: str, mentor_id: str) -> str:
    """The keyed pseudonym a mentor's ratings are grouped under: the same for every answer, no id."""
    return deps.keys.keyed_hash(MENTOR_PURPOSE, f"{program_id}:{mentor_id}")


def parse_answers(instrument: Instrument, view: dict[str, Any]) -> Parsed:
    """Every item's answer from the modal; an unanswered or off-scale item is an error on its block."""
    values = state_values(view)
    answers: dict[int, int | None] = {}
    errors: dict[str, str] = {}
    for item in instrument.items:
        block = ITEM_BLOCK.format(number=item.number)
        raw = values.get(block)
        if raw == NOT_APPLICABLE and instrument.scale.not_applicable:
            answers[item.number] = None
        elif isinstance(raw, str) and raw.isdigit() and int(raw) in instrument.scale.labels:
            answers[item.number] = int(raw)
        else:
            errors[block] = UNANSWERED
    return Parsed(answers, errors)


def open_survey(deps: Deps, *, survey_id: int, user_id: str) -> View:
    """The survey's modal, for its own mentee while it is unanswered and within its window."""
    with deps.read_sessions.begin() as session:
        survey = _answerable(session, survey_id=survey_id, user_id=user_id, deps=deps)
    instrument, min_group = _instrument_of(deps, survey)
    return survey_modal(survey_id=survey.id, instrument=instrument, min_group=min_group)


def instrument_for(deps: Deps, *, survey_id: int) -> Instrument | None:
    with deps.read_sessions.begin() as session:
        survey = repo.survey_of(session, survey_id=survey_id)
    return None if survey is None else shipped_instruments().get(survey.instrument_id)


def record_survey(deps: Deps, *, survey_id: int, user_id: str, answers: Mapping[int, int | None]) -> None:
    """Mark the claim answered and keep the scored answer encrypted beside it, in one transaction."""
    with deps.sessions.begin() as session:
        survey = _answerable(session, survey_id=survey_id, user_id=user_id, deps=deps)
        pending = _pending_answer(deps, survey, answers)
        if not repo.mark_answered(session, survey_id=survey_id, person_id=user_id):
            raise SurveyClosed("You have answered this survey already. Thank you!")
        if pending is not None:  # too many "not applicable" to score: nothing to count
            repo.save_pending(session, survey_id=survey_id, answer=pending)


def _answerable(session: Session, *, survey_id: int, user_id: str, deps: Deps) -> InstrumentSurvey:
    survey = repo.survey_of(session, survey_id=survey_id)
    if survey is None or survey.person_id != user_id or survey.status != repo.SENT:
        raise SurveyClosed("This survey is not open for you.")
    if survey.answered:
        raise SurveyClosed("You have answered this survey already. Thank you!")
    if _closed(session, deps, survey):
        raise SurveyClosed("This survey has closed. The next one will come in a DM.")
    return survey


def _closed(session: Session, deps: Deps, survey: InstrumentSurvey) -> bool:
    """Past its answer window, or its answer period closed (its answers were released or discarded)."""
    now = deps.clock()
    period = answer_period(survey.period, survey.sent_at or survey.due_at)
    if now - survey.due_at > ANSWER_WINDOW or now >= closes_at(period):
        return True
    return repo.is_closed(
        session, program_id=survey.program_id, instrument_id=survey.instrument_id, period=period
    )


def _instrument_of(deps: Deps, survey: InstrumentSurvey) -> tuple[Instrument, int]:
    program = deps.programs.get(survey.program_id)
    instrument = shipped_instruments().get(survey.instrument_id)
    if program is None or instrument is None:
        raise SurveyClosed("This survey is no longer run by your program.")
    return instrument, program.privacy.min_group_size


def _pending_answer(deps: Deps, survey: InstrumentSurvey, answers: Mapping[int, int | None]) -> str | None:
    """The scored answer to keep until its period closes (JSON: version, score, domains)."""
    instrument, _ = _instrument_of(deps, survey)
    try:
        result = score(instrument, answers)
    except InvalidAnswers:
        raise SurveyClosed("Some answers were not on the survey's scale. Please open it again.") from None
    if result.value is None:
        return None
    return json.dumps({"version": instrument.version, "score": result.value, "domains": result.domains})
