"""Demo chapter: a simulated check-in week — prompts at each mentee's local time, answers over signed HTTP.

The clock moves to each due instant and the check-in tick sends the prompts; mentees answer with the
quick wellbeing buttons or the full modal, a note reaches a mentor, an unanswered prompt gets its
reminder and, at expiry, its DM closes.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.app.demo.world import MENTEES, MENTORS, PEOPLE, PROGRAM_ID, World, block_text
from bot.checkins import blocks as checkin_blocks
from bot.checkins import home as checkins
from storage.models import Checkin
from storage.repositories.pairs import active_pairs_in, create_pair
from storage.repositories.people import upsert_person

PROMPT_EVENT = "mentorbot_checkin"
# (mentee, how they answer): a wellbeing button, the modal with a note, or not at all.
RAHUL, SOFIA, YUSUF, MEI, KWAME, AMARA = (
    MENTEES[1],
    MENTEES[2],
    MENTEES[3],
    MENTEES[4],
    MENTEES[5],
    MENTEES[0],
)
NOTE = "Thank you for Tuesday. Could we go over discharge summaries in the EHR next time?"


def run(world: World) -> None:
    _ensure_pairs(world)
    program = world.deps.programs.get(PROGRAM_ID)
    assert program is not None
    checkin = program.checkins
    world.heading(
        f"A check-in week: {checkin.cadence}, {checkin.weekday} {checkin.local_time:%H:%M} in each mentee's "
        "own timezone"
    )
    world.say(f"/checkin, as {world.name(RAHUL)}: {_command(world, RAHUL, '')}")
    for instant, mentees in _due_instants(world):
        _tick(world, instant, f"due for {', '.join(world.name(m) for m in mentees)}")
        if RAHUL in mentees:
            world.heading(f"The prompt in {world.name(RAHUL)}'s DM")
            world.say(_indent(block_text(_prompt(world, RAHUL)["blocks"])))
            _click(world, RAHUL, 4)
        if YUSUF in mentees:
            _answer_in_modal(world, YUSUF)
        if MEI in mentees:
            _click(world, MEI, 3)
        if KWAME in mentees:
            _click(world, KWAME, 5)
            world.say(f"{world.name(KWAME)}: /checkin pause 2w → {_command(world, KWAME, 'pause 2w')}")
    first_due = _due_at(world, AMARA)
    _tick(world, first_due + timedelta(hours=24, minutes=1), "a day after the prompt")
    reminder = world.fake.messages(AMARA)[-1]
    world.say(_indent(block_text(reminder.get("blocks"), reminder.get("text", ""))))
    _click(world, AMARA, 2, say=False)
    world.say(f"{world.name(AMARA)} answers from the reminder: wellbeing 2 · Low.")
    _tick(world, _due_at(world, SOFIA) + timedelta(hours=96), "four days after the prompt")
    world.heading(f"{world.name(SOFIA)}'s DM after expiry")
    world.say(_indent(block_text(_prompt(world, SOFIA)["blocks"])))
    world.fake.now = None
    _summary(world)


def _ensure_pairs(world: World) -> None:
    """The roster chapter pairs the cohort; when it has not, pair three mentees with each mentor here."""
    now = world.clock()
    with world.deps.sessions.begin() as session:
        if active_pairs_in(session, program_id=PROGRAM_ID):
            return
        for person in PEOPLE:
            upsert_person(
                session,
                user_id=person.id,
                now=now,
                real_name=person.real_name,
                timezone=person.tz,
                refreshed=True,
            )
        session.flush()
        for index, mentee in enumerate(MENTEES):
            mentor = MENTORS[index * len(MENTORS) // len(MENTEES)]
            create_pair(session, program_id=PROGRAM_ID, mentor_id=mentor, mentee_id=mentee, now=now)


def _due_instants(world: World) -> list[tuple[datetime, list[str]]]:
    """Each mentee's next due instant, grouped and in time order."""
    found: dict[datetime, list[str]] = {}
    with world.deps.sessions.begin() as session:
        mentees = sorted({p.mentee_id for p in active_pairs_in(session, program_id=PROGRAM_ID)})
        for mentee in mentees:
            due = checkins.next_due(session, deps=world.deps, user_id=mentee, now=world.clock())
            if due is not None:
                found.setdefault(due, []).append(mentee)
    return sorted(found.items())


def _tick(world: World, instant: datetime, why: str) -> None:
    world.clock.now = instant
    world.fake.now = instant  # dnd.info and message timestamps follow the simulated clock
    world.heading(f"{instant:%a %d %b %H:%M} UTC ({why}): mentorbot tick")
    for line in checkins.run_due(world.deps, instant) or ["nothing due"]:
        world.say(f"  {line}")


def _command(world: World, user_id: str, text: str) -> str:
    status, body, _ = world.slack.command("/checkin", text, user_id=user_id)
    return str(json.loads(body).get("text", "")) if status == 200 and body else f"(HTTP {status})"


def _prompt(world: World, user_id: str) -> dict[str, Any]:
    return next(
        m for m in world.fake.messages(user_id) if (m.get("metadata") or {}).get("event_type") == PROMPT_EVENT
    )


def _checkin(world: World, user_id: str) -> Checkin:
    with world.deps.sessions.begin() as session:
        query = select(Checkin).where(Checkin.mentee_id == user_id).order_by(Checkin.due_at.desc())
        row = session.scalars(query).first()
    assert row is not None
    return row


def _due_at(world: World, user_id: str) -> datetime:
    return _checkin(world, user_id).due_at


def _thanked(world: World, user_id: str) -> bool:
    return "Thank you" in str(_prompt(world, user_id).get("text", ""))


def _click(world: World, user_id: str, score: int, *, say: bool = True) -> None:
    row = _checkin(world, user_id)
    world.clock.now = world.clock.now + timedelta(minutes=20)
    world.slack.block_action(
        user_id,
        action_id=checkin_blocks.WELLBEING_ACTION.format(score=score),
        value=f"{row.id}:{score}",
        message=_prompt(world, user_id),
    )
    world.fake.wait_for(lambda: _thanked(world, user_id), what="the thank-you")
    if say:
        world.heading(f"{world.name(user_id)} clicks a wellbeing button; the DM becomes")
        world.say(_indent(block_text(_prompt(world, user_id)["blocks"])))


def _answer_in_modal(world: World, user_id: str) -> None:
    row = _checkin(world, user_id)
    world.clock.now = world.clock.now + timedelta(minutes=30)
    opened = len(world.fake.views)
    world.slack.block_action(
        user_id, action_id=checkin_blocks.OPEN_ACTION, value=str(row.id), message=_prompt(world, user_id)
    )
    world.fake.wait_for(lambda: len(world.fake.views) > opened, what="the answer modal")
    view = world.fake.views[-1]
    world.heading(f"{world.name(user_id)} clicks Answer: the modal")
    for block in view["blocks"]:
        if block["type"] == "input":
            world.say(f"  <{block['label']['text']}>  — {block['hint']['text']}")
    state = {
        "wellbeing": {"wellbeing": _option("4")},
        "psych": {"psych": _option("6")},
        "met": {"met": _option("1")},
        "note": {"note": {"type": "plain_text_input", "value": NOTE}},
    }
    mentor = _mentor_of(world, user_id)
    world.slack.view_submission(user_id, view={**view, "state": {"values": state}})
    world.fake.wait_for(lambda: _note_for(world, mentor) is not None, what="the note to the mentor")
    world.fake.wait_for(lambda: _thanked(world, user_id), what="the thank-you")
    world.say(f"  submitted: wellbeing 4, team question 6, met the mentor: yes, note: “{NOTE}”")
    world.heading(f"{world.name(user_id)}'s DM now")
    world.say(_indent(block_text(_prompt(world, user_id)["blocks"])))
    world.heading(f"The note, in {world.name(mentor)}'s DM")
    note = _note_for(world, mentor)
    assert note is not None
    world.say(_indent(block_text(note.get("blocks"), note.get("text", ""))))


def _note_for(world: World, mentor: str) -> dict[str, Any] | None:
    return next((m for m in world.fake.messages(mentor) if "left you a note" in m.get("text", "")), None)


def _option(value: str) -> dict[str, Any]:
    return {
        "type": "radio_buttons",
        "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}},
    }


def _mentor_of(world: World, mentee: str) -> str:
    with world.deps.sessions.begin() as session:
        pair = next(p for p in active_pairs_in(session, program_id=PROGRAM_ID) if p.mentee_id == mentee)
        return pair.mentor_id


def _summary(world: World) -> None:
    world.heading("The week in the database (checkins.status)")
    with world.deps.sessions.begin() as session:
        query = select(Checkin).where(Checkin.program_id == PROGRAM_ID).order_by(Checkin.due_at)
        for row in session.scalars(query):
            world.say(f"  {world.name(row.mentee_id):22} {row.period}  {row.status}")


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
