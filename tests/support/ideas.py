"""Driving /idea like a person in Slack: open a modal, fill it in as Slack reports it, press buttons."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from storage.models import Idea
from tests.support.waiting import wait_until

MENTOR, MENTEE, COORDINATOR = "U0MENTOR1", "U0MENTEE1", "U0COORD1"
IDEA = {
    "summary": "A five-minute huddle before handover",
    "observation": "Night handover starts late most days and the first hour is rushed.",
    "affects": ["workflow", "unit"],
    "change": "A five-minute huddle at 7:15 with the charge nurse and both residents.",
}
TODAY = date(2026, 11, 23)  # the clock fixture's day, also in Kolkata (the mentee's timezone)


def plan(test_date: date) -> dict[str, Any]:
    return {
        "prediction": "Handover starts on time on most days of the week.",
        "measure": "Start time of handover, written on the board each morning.",
        "scope": "Night shift on one ward for one week.",
        "test_date": test_date.isoformat(),
    }


DO = {"happened": "We ran the huddle on five of seven nights; two nights were too busy."}
STUDY = {"outcome": "partly", "result": "Handover started on time on four of five huddle nights."}
ADOPT = {"decision": "adopt", "decision_notes": "The ward manager agreed to keep it."}
ADAPT = {"decision": "adapt", "decision_notes": "Try it at 7:10 so busy nights fit too."}


def fill(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """The view as Slack sends it on submit: each input's answer (block id -> value) or its initial value."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        answer = answers[block_id] if block_id in answers else _initial(element)
        values[block_id] = {element["action_id"]: _state(element, answer)}
    return {**view, "state": {"values": values}}


def _initial(element: dict[str, Any]) -> Any:
    if element["type"] == "datepicker":
        return element.get("initial_date")
    if element["type"] in ("static_select", "radio_buttons"):
        return (element.get("initial_option") or {}).get("value")
    return element.get("initial_value")


def _state(element: dict[str, Any], answer: Any) -> dict[str, Any]:
    kind = element["type"]
    options = {o["value"]: o for o in element.get("options", [])}
    if kind == "datepicker":
        return {"type": kind, "selected_date": answer}
    if kind in ("static_select", "radio_buttons"):
        return {"type": kind, "selected_option": options.get(answer) if answer else None}
    if kind in ("checkboxes", "multi_static_select"):
        return {"type": kind, "selected_options": [options[a] for a in answer or []]}
    return {"type": kind, "value": answer}


def submit(
    slack: SlackRequestSender,
    user_id: str,
    view: dict[str, Any],
    answers: dict[str, Any],
    *,
    settles: bool = True,
) -> dict[str, Any]:
    """Submit a modal filled with `answers`; returns the ack's JSON (errors, or the view it becomes).

    Once saved, it waits for the author's App Home that the bot republishes after a save that owed a
    DM (`settles`: every save but competency evidence).
    """
    fake = slack.fake
    assert fake is not None
    before = published(fake, user_id)
    status, body, _ = slack.view_submission(user_id, view=fill(view, answers))
    assert status == 200
    reply: dict[str, Any] = json.loads(body) if body else {}
    if settles and reply.get("response_action") == "update" and "Something went wrong" not in str(reply):
        settled(fake, user_id, before)
    return reply


def new_view(fake: FakeSlack, before: int, what: str) -> dict[str, Any]:
    wait_until(lambda: len(fake.calls_to("views.open", ok_only=True)) > before, what)
    return fake.views[-1]


def open_idea_modal(slack: SlackRequestSender, fake: FakeSlack, user_id: str) -> dict[str, Any]:
    before = len(fake.calls_to("views.open", ok_only=True))
    status, body, _ = slack.command("/idea", user_id=user_id)
    assert (status, body) == (200, "")
    return new_view(fake, before, "the /idea modal")


def published(fake: FakeSlack, user_id: str) -> int:
    """How many App Home views the bot has published for the user."""
    return sum(
        1 for call in fake.calls_to("views.publish", ok_only=True) if call.args.get("user_id") == user_id
    )


def settled(fake: FakeSlack, user_id: str, before: int) -> None:
    """Wait for the App Home a saved modal republishes for its author (so no older one lands later)."""
    wait_until(lambda: published(fake, user_id) > before, f"{user_id}'s App Home republished")


def home(slack: SlackRequestSender, fake: FakeSlack, user_id: str) -> dict[str, Any]:
    """The user's App Home, published afresh."""
    before = published(fake, user_id)
    slack.event({"type": "app_home_opened", "user": user_id, "tab": "home", "channel": "D0HOME"})
    settled(fake, user_id, before)
    view = fake.home_view(user_id)
    assert view is not None
    return view


def button(surface: dict[str, Any], label: str, idea_id: int | None = None) -> dict[str, Any]:
    """The button labelled `label` (of one idea, when given) in a message or a view."""
    found = [
        element
        for block in surface["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["text"]["text"] == label
        and (idea_id is None or element["action_id"].endswith(f":{idea_id}"))
    ]
    assert found, f"no [{label}] button in {[b.get('block_id') for b in surface['blocks']]}"
    return found[0]


def press(
    slack: SlackRequestSender, fake: FakeSlack, user_id: str, surface: dict[str, Any], label: str, **kw: Any
) -> dict[str, Any] | None:
    """Press a button on a DM (a message) or App Home (a view); returns the modal it opened, if any."""
    element = button(surface, label, kw.get("idea_id"))
    where = {"view": surface} if surface.get("type") == "home" else {"message": surface}
    before = len(fake.calls_to("views.open", ok_only=True))
    status, _, _ = slack.block_action(
        user_id, action_id=element["action_id"], value=element.get("value"), **where
    )
    assert status == 200
    if kw.get("opens", True):
        return new_view(fake, before, f"the modal of [{label}]")
    return None


def dms(fake: FakeSlack, user_id: str) -> list[dict[str, Any]]:
    return fake.messages(user_id)


def next_dm(fake: FakeSlack, user_id: str, count: int) -> dict[str, Any]:
    """Wait for the user's `count`-th DM and return it."""
    wait_until(lambda: len(fake.messages(user_id)) >= count, f"DM {count} to {user_id}")
    return fake.messages(user_id)[count - 1]


def only_idea(deps: Deps) -> Idea:
    with deps.read_sessions.begin() as session:
        return session.scalars(select(Idea)).one()


def record_idea(
    slack: SlackRequestSender,
    fake: FakeSlack,
    deps: Deps,
    *,
    shared: bool = False,
    summary: str | None = None,
) -> int:
    """The mentee records an idea over HTTP; returns its id once the mentor's DM has gone out."""
    sent = len(fake.messages(MENTOR))
    answers = {**IDEA, "share": ["coordinators"] if shared else []}
    if summary is not None:
        answers["summary"] = summary
    reply = submit(slack, MENTEE, open_idea_modal(slack, fake, MENTEE), answers)
    assert reply["response_action"] == "update", reply
    next_dm(fake, MENTOR, sent + 1)
    with deps.read_sessions.begin() as session:
        return int(session.scalars(select(Idea.id).order_by(Idea.id.desc())).first() or 0)


def take_step(
    slack: SlackRequestSender, fake: FakeSlack, idea_id: int, label: str, answers: dict[str, Any]
) -> dict[str, Any]:
    """The mentee presses the idea's next-step button on App Home and submits the step's modal."""
    sent = len(fake.messages(MENTOR))
    modal = press(slack, fake, MENTEE, home(slack, fake, MENTEE), label, idea_id=idea_id)
    assert modal is not None
    reply = submit(slack, MENTEE, modal, answers)
    assert reply.get("response_action") == "update", reply
    next_dm(fake, MENTOR, sent + 1)
    return reply


def through_a_cycle(
    slack: SlackRequestSender, fake: FakeSlack, idea_id: int, decision: dict[str, Any]
) -> None:
    """Plan (a test tomorrow), Do, Study and Act, each from its modal."""
    take_step(slack, fake, idea_id, "Plan a test", plan(TODAY + timedelta(days=1)))
    take_step(slack, fake, idea_id, "Record what happened", DO)
    take_step(slack, fake, idea_id, "Study the result", STUDY)
    take_step(slack, fake, idea_id, "Adopt, adapt or abandon", decision)
