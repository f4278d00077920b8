"""Demo chapter: a mentor logs a session with /reflect, the mentee confirms it from the DM, and a
competency moves to "demonstrated" while the mentor's protected hours and CME credits grow."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from bot.app.demo.world import MENTEES, MENTORS, PROGRAM_ID, World, block_text
from bot.kernel.people import look_up_people, store_person
from bot.kernel.roles import roles_of
from bot.reflections.blocks import PAIR_ACTION, PAIR_BLOCK
from bot.reflections.competencies import level_line, timelines
from bot.reflections.home import home_blocks
from bot.reflections.terms import competency_label
from storage.models import MentoringSession
from storage.repositories.pairs import active_pairs_in, create_pair

COMPETENCY = "clinical-reasoning"


def run(world: World) -> None:
    """Two sessions of one pair: the first shows 'developing', the second 'demonstrated'."""
    world.heading("Session reflections: protected time, competencies, two-sided confirmation")
    mentor, mentee = _a_pair(world)
    world.say(f"{world.name(mentor)} mentors {world.name(mentee)}.")
    first = _log(world, mentor, mentee, days_back=14, minutes=60, level="developing", fmt="in_person")
    _confirm(world, mentee, first)
    world.say(f"Two weeks ago: a 60-minute session, {competency_label(COMPETENCY)} 'developing', confirmed.")
    _say_level(world, mentee)

    world.say()
    world.say(f"Today {world.name(mentor)} types /reflect and logs a 45-minute video session,")
    world.say(f"marking {competency_label(COMPETENCY)} 'demonstrated'.")
    message = _log(world, mentor, mentee, days_back=0, minutes=45, level="demonstrated", fmt="video")
    world.say(f"{world.name(mentee)} gets this DM:")
    _say_block(world, message)
    world.say(f"{world.name(mentee)} presses [Confirm]; the DM now reads:")
    _confirm(world, mentee, message)
    _say_block(world, _same_message(world, message))
    _say_level(world, mentee)
    world.say()
    world.say(f"{world.name(mentor)}'s App Home, sessions section:")
    _say_home(world, mentor)


def _a_pair(world: World) -> tuple[str, str]:
    """A pair from the roster chapter, or one made here when the roster is empty."""
    deps, now = world.deps, world.clock()
    with deps.read_sessions.begin() as session:
        pairs = active_pairs_in(session, program_id=PROGRAM_ID)
    if pairs:
        return pairs[0].mentor_id, pairs[0].mentee_id
    lookups = look_up_people(deps, user_ids=[MENTORS[0], MENTEES[0]], now=now)  # Slack before the write
    with deps.sessions.begin() as session:
        for lookup in lookups.values():
            store_person(session, lookup, now=now)
        session.flush()  # people rows before the pair that refers to them
        pair = create_pair(
            session, program_id=PROGRAM_ID, mentor_id=MENTORS[0], mentee_id=MENTEES[0], now=now
        )
        return pair.mentor_id, pair.mentee_id


def _log(
    world: World, mentor: str, mentee: str, *, days_back: int, minutes: int, level: str, fmt: str
) -> dict[str, Any]:
    """Run /reflect as the mentor, fill in the modal as a person would, submit; return the mentee's DM."""
    fake, opened, dms = world.fake, len(world.fake.views), len(world.fake.messages(mentee))
    world.slack.command("/reflect", user_id=mentor)
    fake.wait_for(lambda: len(fake.views) > opened, what="the /reflect modal")
    view, chosen = _for_pair(world, fake.views[-1], mentor, mentee)
    day = _days_before(_initial(view, "date"), days_back)
    answers = chosen | {
        "date": day,
        "duration": str(minutes),
        "format": fmt,
        "topics": ["clinical-reasoning", "cultural-fluency"],
        f"competency:{COMPETENCY}": level,
        "learned": "How consultant hierarchies worked where she trained, and why she waits to be asked.",
        "share": "anonymous",
        "next_steps": "Present the next admission at handover.",
        "private_notes": "Ask about the night rota.",
    }
    world.slack.view_submission(mentor, view=_filled(view, answers))
    fake.wait_for(lambda: len(fake.messages(mentee)) > dms, what="the confirmation DM")
    return fake.messages(mentee)[-1]


def _for_pair(
    world: World, view: dict[str, Any], mentor: str, mentee: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """Choose the pair when the mentor has several, and wait for the modal to show its fields."""
    if view["blocks"][0].get("block_id") != PAIR_BLOCK:
        return view, {}
    with world.deps.sessions.begin() as session:
        pair_id = next(p.id for p in active_pairs_in(session, program_id=PROGRAM_ID) if p.mentee_id == mentee)
    updates = len(world.fake.calls_to("views.update"))
    world.slack.block_action(
        mentor, action_id=PAIR_ACTION, value=str(pair_id), action_type="static_select", view=view
    )
    world.fake.wait_for(lambda: len(world.fake.calls_to("views.update")) > updates, what="the modal update")
    updated = world.fake.view(view["id"])
    assert updated is not None
    return updated, {"pair": str(pair_id)}


def _confirm(world: World, mentee: str, message: dict[str, Any]) -> None:
    button = next(
        e
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == "Confirm"
    )
    world.slack.block_action(mentee, action_id=button["action_id"], value=button["value"], message=message)
    _until(lambda: _status(world, int(button["value"])) == "confirmed", "the confirmation")
    world.fake.wait_for(lambda: "You confirmed" in str(_same_message(world, message)), what="the DM update")


def _same_message(world: World, message: dict[str, Any]) -> dict[str, Any]:
    """The DM as it is now: other DMs (check-in prompts) may have arrived after it."""
    channel = message.get("channel", "")
    return next((m for m in world.fake.messages(channel) if m["ts"] == message["ts"]), message)


def _status(world: World, session_id: int) -> str | None:
    with world.deps.read_sessions.begin() as session:
        row = session.get(MentoringSession, session_id)
        return row.status if row is not None else None


def _until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    # The bot answers button presses after the HTTP response, on its own threads.
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"demo: {what} did not happen within {timeout:.0f}s")
        time.sleep(0.01)


def _say_block(world: World, message: dict[str, Any]) -> None:
    for line in block_text(message.get("blocks"), message.get("text", "")).splitlines():
        world.say(f"    {line}")


def _say_level(world: World, mentee: str) -> None:
    program = world.deps.programs.get(PROGRAM_ID)
    assert program is not None
    with world.deps.read_sessions.begin() as session:
        found = {t.competency: t for t in timelines(session, program=program, mentee_id=mentee)}
    world.say(f"  {world.name(mentee)}: {level_line(found[COMPETENCY], today=world.clock().date())}")


def _say_home(world: World, mentor: str) -> None:
    with world.deps.read_sessions.begin() as session:
        roles = roles_of(session, programs=world.deps.programs, user_id=mentor)
        blocks = home_blocks(session, deps=world.deps, roles=roles, now=world.clock())
    for line in block_text(blocks).splitlines():
        world.say(f"    {line}")


# -- filling in a modal the way Slack reports it back --------------------------------------------------------


def _initial(view: dict[str, Any], block_id: str) -> str:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    return str(block["element"]["initial_date"])


def _days_before(iso_day: str, days: int) -> str:
    return (date.fromisoformat(iso_day) - timedelta(days=days)).isoformat()


def _filled(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        values[block_id] = {element["action_id"]: _state(element, answers.get(block_id))}
    return {**view, "state": {"values": values}}


def _state(element: dict[str, Any], answer: Any) -> dict[str, Any]:
    kind = element["type"]
    options = {o["value"]: o for o in element.get("options", [])}
    if kind == "datepicker":
        return {"type": kind, "selected_date": answer or element.get("initial_date")}
    if kind in ("static_select", "radio_buttons"):
        chosen = options.get(answer) if answer else element.get("initial_option")
        return {"type": kind, "selected_option": chosen}
    if kind == "multi_static_select":
        return {"type": kind, "selected_options": [options[a] for a in answer or []]}
    return {"type": kind, "value": answer}
