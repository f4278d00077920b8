"""Answering a check-in: quick wellbeing buttons, the full modal, and what follows an answer.

After an answer the DM turns into a thank-you listing what was recorded, a note goes to the mentor,
and a second low wellbeing in a row sends the mentor a nudge that does not reveal any score.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bot.checkins import blocks, climate, schedule
from bot.kernel.authz import NotAllowed
from bot.kernel.clock import zone_of
from bot.kernel.deps import Deps
from bot.kernel.people import display_name
from bot.kernel.programs import Program, ProgramsConfig
from bot.kernel.refusals import Refusal
from bot.kernel.text import day_label
from bot.slack.delivery import RETRYABLE_ERRORS, slack_error
from storage.models import Checkin, CheckinAnswer
from storage.repositories import checkins as repo
from storage.repositories.people import get_person, people_by_id

log = logging.getLogger("mentorbot.checkins.answers")

NOT_YOURS = "This check-in belongs to someone else. Type `/mentorship help` to see what you can do."
LOW_WELLBEING = 2


class CheckinClosed(Refusal):
    """The check-in can no longer be answered; the message is safe to show the person."""


class ModalAnswer(BaseModel):
    """The full check-in as submitted; field names are the stored column names but for psych_score,
    the team-climate answer, which bot.checkins.climate stores."""

    wellbeing: int = Field(ge=1, le=5)
    psych_score: int | None = Field(default=None, ge=1, le=7)
    met_mentor: bool | None = None
    note: str | None = Field(default=None, max_length=blocks.NOTE_MAX)


@dataclass(frozen=True)
class Owned:
    """A check-in the caller may answer, with what rendering it needs."""

    checkin: Checkin
    program: Program
    zone: ZoneInfo
    name: str

    @property
    def audience(self) -> blocks.Audience:
        return blocks.Audience(self.program.privacy.min_group_size)


def zone_for(session: Session, *, programs: ProgramsConfig, user_id: str, program_id: str | None) -> ZoneInfo:
    """The person's Slack timezone, else the program's (else UTC)."""
    person = get_person(session, user_id=user_id)
    program = programs.get(program_id) if program_id else None
    return zone_of(person.timezone if person else None, program.timezone if program else "UTC")


def owned(
    session: Session, *, deps: Deps, checkin_id: int, user_id: str, now: datetime, lock: bool = False
) -> Owned:
    """The check-in if `user_id` is its mentee and it is still open; raises NotAllowed or CheckinClosed.

    `lock` holds the check-in row until the transaction ends (before saving an answer: see
    bot.checkins.climate.is_open).
    """
    checkin = repo.get_checkin(session, checkin_id=checkin_id, for_update=lock)
    if checkin is None or checkin.mentee_id != user_id:
        raise NotAllowed(NOT_YOURS)
    program = deps.programs.get(checkin.program_id)
    if program is None:
        raise CheckinClosed("This check-in's program has ended, so it can no longer be answered.")
    person = get_person(session, user_id=user_id)
    zone = zone_of(person.timezone if person else None, program.timezone)
    if checkin.status not in repo.ANSWERABLE or now >= checkin.expires_at:
        raise CheckinClosed(
            f"This check-in for {day_label(checkin.period)} closed on "
            f"{schedule.local_label(checkin.expires_at, zone)} your time, so your answer was not saved. "
            "Your next check-in will come at the usual time."
        )
    return Owned(checkin, program, zone, display_name(person, user_id))


def record_wellbeing(deps: Deps, *, checkin_id: int, user_id: str, score: int, now: datetime) -> None:
    """Store a quick wellbeing button click as (part of) the answer."""
    if score not in blocks.WELLBEING:
        raise CheckinClosed("That wellbeing value is not one of the buttons; please click one of them.")
    with deps.sessions.begin() as session:
        found = owned(session, deps=deps, checkin_id=checkin_id, user_id=user_id, now=now)
        repo.save_answer(session, checkin=found.checkin, now=now, fields={"wellbeing": score})


def record_answer(deps: Deps, *, checkin_id: int, user_id: str, answer: ModalAnswer, now: datetime) -> None:
    """Store the full check-in; answering again replaces the earlier answer.

    The team-climate answer is stored (encrypted) only while its week is open; after the week's
    cutoff it no longer counts anywhere, so it is not kept at all.
    """
    fields = answer.model_dump()
    score = fields.pop("psych_score")
    if not (fields["note"] or "").strip():
        fields["note"] = None
    with deps.sessions.begin() as session:
        found = owned(session, deps=deps, checkin_id=checkin_id, user_id=user_id, now=now, lock=True)
        if climate.is_open(session, program=found.program, checkin=found.checkin, now=now):
            fields.update(climate.answer_fields(score))
        repo.save_answer(session, checkin=found.checkin, now=now, fields=fields)


def modal_view(deps: Deps, *, checkin_id: int, user_id: str, now: datetime) -> dict[str, Any]:
    """The answer modal, pre-filled with any earlier answer."""
    with deps.sessions.begin() as session:
        found = owned(session, deps=deps, checkin_id=checkin_id, user_id=user_id, now=now)
        answer = repo.get_answer(session, checkin_id=checkin_id)
        prefill = blocks.Prefill()
        if answer is not None:
            psych = int(answer.climate_score) if answer.climate_score is not None else None
            prefill = blocks.Prefill(answer.wellbeing, psych, answer.met_mentor, answer.note)
    return blocks.answer_modal(
        checkin_id=checkin_id,
        period=day_label(found.checkin.period),
        item=found.checkin.psych_item,
        audience=found.audience,
        prefill=prefill,
    )


def after_answer(
    deps: Deps, *, checkin_id: int, now: datetime, pressed_on: tuple[str, str] | None = None
) -> None:
    """Everything Slack-facing that follows an answer: thank-you DM, note to mentor, nudge.

    `pressed_on` is the (channel, ts) of the prompt whose button was pressed, if it was.
    """
    update_dm(deps, checkin_id=checkin_id, now=now, pressed_on=pressed_on)
    deliver_note(deps, checkin_id=checkin_id, now=now)
    nudge_if_low_twice(deps, checkin_id=checkin_id, now=now)


def update_dm(
    deps: Deps, *, checkin_id: int, now: datetime, pressed_on: tuple[str, str] | None = None
) -> None:
    """Turn the prompt DM into a thank-you listing what was recorded.

    The prompt's place comes from the database, or from the press itself when the mentee was
    quicker than the tick recording where the prompt went.
    """
    with deps.sessions.begin() as session:
        checkin = repo.get_checkin(session, checkin_id=checkin_id)
        answer = repo.get_answer(session, checkin_id=checkin_id)
        if checkin is None or answer is None:
            return
        where = (checkin.channel, checkin.ts) if checkin.channel and checkin.ts else pressed_on
        if where is None:
            return
        found = owned(session, deps=deps, checkin_id=checkin_id, user_id=checkin.mentee_id, now=now)
        text, thanks = blocks.thanks(
            checkin_id=checkin_id,
            name=found.name,
            period=day_label(checkin.period),
            recorded=_recorded(answer),
            open_until=schedule.local_label(checkin.expires_at, found.zone),
            audience=found.audience,
        )
    channel, ts = where
    deps.client.chat_update(channel=channel, ts=ts, text=text, blocks=thanks)


def _recorded(answer: CheckinAnswer) -> blocks.Recorded:
    return blocks.Recorded(
        wellbeing=answer.wellbeing,
        psych_answered=answer.climate_answered,
        met_mentor=answer.met_mentor,
        note=bool(answer.note),
    )


def deliver_note(deps: Deps, *, checkin_id: int, now: datetime) -> bool:
    """DM a new or changed note to the mentee's mentor(s), once; on failure leave it for the next tick."""
    with deps.sessions.begin() as session:
        note = repo.claim_note_delivery(session, checkin_id=checkin_id, now=now)
        if note is None:
            return False
        checkin = repo.get_checkin(session, checkin_id=checkin_id)
        answer = repo.get_answer(session, checkin_id=checkin_id)
        assert checkin is not None and answer is not None  # the claim above found the answer
        mentors = repo.mentors_of(session, program_id=checkin.program_id, mentee_id=checkin.mentee_id)
        mentee = people_by_id(session, user_ids=[checkin.mentee_id]).get(checkin.mentee_id)
        text, note_blocks = blocks.note_to_mentor(
            mentee=display_name(mentee, checkin.mentee_id),
            period=day_label(checkin.period),
            note=note,
            wellbeing=answer.wellbeing,
            met=answer.met_mentor,
        )
    try:
        for mentor_id in mentors:
            deps.client.chat_postMessage(channel=mentor_id, text=text, blocks=note_blocks)
    except RETRYABLE_ERRORS as exc:
        log.warning("check-in %d note not delivered (%s); retrying next tick", checkin_id, slack_error(exc))
        with deps.sessions.begin() as session:
            repo.release_note_delivery(session, checkin_id=checkin_id)
        return False
    return True


def nudge_if_low_twice(deps: Deps, *, checkin_id: int, now: datetime) -> bool:
    """Nudge the mentor when this and the previous answer both had wellbeing of 2 or less."""
    with deps.sessions.begin() as session:
        checkin = repo.get_checkin(session, checkin_id=checkin_id)
        answer = repo.get_answer(session, checkin_id=checkin_id)
        if checkin is None or answer is None or not _low(answer):
            return False
        previous = repo.previous_answer(session, checkin=checkin)
        if previous is None or not _low(previous):
            return False
        if not repo.claim_nudge(session, checkin_id=checkin_id, now=now):
            return False
        mentors = repo.mentors_of(session, program_id=checkin.program_id, mentee_id=checkin.mentee_id)
        mentee = get_person(session, user_id=checkin.mentee_id)
        name = display_name(mentee, checkin.mentee_id)
    text, nudge_blocks = blocks.nudge(mentee=name)
    for mentor_id in mentors:
        try:
            deps.client.chat_postMessage(channel=mentor_id, text=text, blocks=nudge_blocks)
        except RETRYABLE_ERRORS as exc:
            log.warning("check-in %d mentor nudge not delivered (%s)", checkin_id, slack_error(exc))
    return True


def _low(answer: CheckinAnswer) -> bool:
    return answer.wellbeing is not None and answer.wellbeing <= LOW_WELLBEING
