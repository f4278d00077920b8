"""Demo chapter: a mentee's observation from practice becomes an idea, is tested in two small
Plan-Do-Study-Act cycles with her mentor's comments, gets a reminder when a test date passes, and is
adopted — all over signed HTTP, as Slack would send it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.app.demo.world import PROGRAM_ID, World, block_text
from bot.ideas import notices
from bot.ideas.home import home_blocks
from bot.kernel.roles import roles_of
from storage.models import IdeaCycle
from storage.repositories.pairs import active_pairs_in

SUMMARY = "A five-minute huddle before night handover"
IDEA = {
    "summary": SUMMARY,
    "observation": "Night handover starts 20 minutes late most days; the first hour on the ward is rushed.",
    "affects": ["workflow", "unit"],
    "change": "A five-minute standing huddle at 7:15 with the charge nurse and both residents.",
    "share": ["coordinators"],
}
FIRST_CYCLE = [
    (
        "Plan a test",
        {
            "prediction": "Handover starts on time on most nights of the week.",
            "measure": "The start time of handover, written on the ward board each morning.",
            "scope": "Night shift on one ward, for one week.",
        },
    ),
    ("Record what happened", {"happened": "Huddles on five of seven nights; two nights were too busy."}),
    ("Study the result", {"outcome": "partly", "result": "On time on four of the five huddle nights."}),
    (
        "Adopt, adapt or abandon",
        {"decision": "adapt", "decision_notes": "Move it to 7:10 so busy nights fit."},
    ),
]
SECOND_CYCLE = [
    (
        "Plan a test",
        {
            "prediction": "At 7:10, handover starts on time even on busy nights.",
            "measure": "The same board, for one more week.",
            "scope": "The same ward and shift.",
        },
    ),
    ("Record what happened", {"happened": "Huddles at 7:10 on all seven nights."}),
    ("Study the result", {"outcome": "as_predicted", "result": "On time on six of seven nights."}),
    ("Adopt, adapt or abandon", {"decision": "adopt", "decision_notes": "The ward manager keeps it."}),
]


def run(world: World) -> None:
    """One idea through two cycles to adoption, with a comment, a reminder and the App Home."""
    world.heading("Ideas: an observation from practice, tested in small Plan-Do-Study-Act cycles")
    mentor, mentee = _a_pair(world)
    world.say(f"{world.name(mentee)} types /idea and shares it with her mentor and the coordinators.")
    _submit(world, mentee, _open_idea(world, mentee), IDEA)
    shared = _dm(world, mentor)
    world.say(f"{world.name(mentor)} gets this DM, and presses [Comment]:")
    _say(world, shared)
    _comment(world, mentor, mentee, shared, "Ask the charge nurse to lead it, and count late starts first.")
    _cycle(world, mentee, mentor, FIRST_CYCLE, remind=True)
    world.say()
    world.say("Adapted: a second cycle.")
    _cycle(world, mentee, mentor, SECOND_CYCLE, remind=False)
    world.say()
    world.say(f"{world.name(mentee)}'s App Home, ideas section (the digest counts it, as she shared it):")
    _say_home(world, mentee)


def _a_pair(world: World) -> tuple[str, str]:
    with world.deps.read_sessions.begin() as session:
        pair = active_pairs_in(session, program_id=PROGRAM_ID)[0]  # the roster chapter made them
        return pair.mentor_id, pair.mentee_id


def _cycle(
    world: World, mentee: str, mentor: str, steps: list[tuple[str, dict[str, Any]]], *, remind: bool
) -> None:
    for label, answers in steps:  # a Plan keeps the date picker's day: a test today
        modal = _press(world, mentee, _home(world, mentee), label)
        _submit(world, mentee, modal, answers)
        step = _dm(world, mentor)
        world.say(f"  [{label}] saved; {world.name(mentor)} is told: {step['text']}")
        if remind and label == "Plan a test":
            _remind(world, mentee)
    _comment(world, mentor, mentee, step, "Well measured. Bring it to the ward meeting.")


def _remind(world: World, mentee: str) -> None:
    """The test day passes without a Do step: the next morning's tick reminds her, once."""
    with world.deps.read_sessions.begin() as session:
        due = session.scalar(select(func.max(IdeaCycle.nudge_due_at)))
    assert due is not None
    world.clock.now = max(world.clock.now, due) + timedelta(minutes=1)
    world.say(f"  A day later the scheduled tick runs: {notices.run_due(world.deps, world.clock.now)}")
    world.say(
        f"  Running it again sends nothing: {notices.run_due(world.deps, world.clock.now) or 'no lines'}"
    )
    _say(world, world.fake.messages(mentee)[-1])


def _comment(world: World, mentor: str, mentee: str, dm: dict[str, Any], text: str) -> None:
    _submit(world, mentor, _press(world, mentor, dm, "Comment"), {"comment": text})
    world.say(f"  {world.name(mentee)} reads: {_dm(world, mentee)['text']}")


def _say_home(world: World, user_id: str) -> None:
    with world.deps.read_sessions.begin() as session:
        roles = roles_of(session, programs=world.deps.programs, user_id=user_id)
        blocks = home_blocks(session, deps=world.deps, roles=roles, now=world.clock())
    for line in block_text(blocks).splitlines():
        world.say(f"    {line}")


def _say(world: World, message: dict[str, Any]) -> None:
    for line in block_text(message.get("blocks"), message.get("text", "")).splitlines():
        world.say(f"    {line}")


# -- Slack's side: commands, buttons and modals ------------------------------------------------------------


def _open_idea(world: World, user_id: str) -> dict[str, Any]:
    opened = len(world.fake.views)
    world.slack.command("/idea", user_id=user_id)
    world.fake.wait_for(lambda: len(world.fake.views) > opened, what="the /idea modal")
    return world.fake.views[-1]


def _home(world: World, user_id: str) -> dict[str, Any]:
    published = len(world.fake.calls_to("views.publish"))
    world.slack.event({"type": "app_home_opened", "user": user_id, "tab": "home", "channel": "DDEMOHOME"})
    world.fake.wait_for(lambda: len(world.fake.calls_to("views.publish")) > published, what="the App Home")
    view = world.fake.home_view(user_id)
    assert view is not None
    return view


def _press(world: World, user_id: str, surface: dict[str, Any], label: str) -> dict[str, Any]:
    element = next(
        e
        for b in surface["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == label
    )
    home = surface.get("type") == "home"
    opened = len(world.fake.views)
    world.slack.block_action(
        user_id,
        action_id=element["action_id"],
        value=element.get("value"),
        view=surface if home else None,
        message=None if home else surface,
    )
    world.fake.wait_for(lambda: len(world.fake.views) > opened, what=f"the modal of [{label}]")
    return world.fake.views[-1]


def _submit(world: World, user_id: str, view: dict[str, Any], answers: dict[str, Any]) -> None:
    published = len(world.fake.calls_to("views.publish"))
    world.slack.view_submission(user_id, view=_filled(view, answers))
    # Saved: the bot sends its DM, then republishes the author's App Home.
    world.fake.wait_for(lambda: len(world.fake.calls_to("views.publish")) > published, what="the save")


def _dm(world: World, user_id: str) -> dict[str, Any]:
    return world.fake.messages(user_id)[-1]


def _filled(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] == "input":
            element = block["element"]
            values[block["block_id"]] = {
                element["action_id"]: _state(element, answers.get(block["block_id"]))
            }
    return {**view, "state": {"values": values}}


def _state(element: dict[str, Any], answer: Any) -> dict[str, Any]:
    kind = element["type"]
    options = {o["value"]: o for o in element.get("options", [])}
    if kind == "datepicker":
        return {"type": kind, "selected_date": answer or element.get("initial_date")}
    if kind in ("static_select", "radio_buttons"):
        return {"type": kind, "selected_option": options.get(answer)}
    if kind == "checkboxes":
        return {"type": kind, "selected_options": [options[a] for a in answer or []]}
    return {"type": kind, "value": answer}
