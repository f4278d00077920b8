"""Demo chapter: an anonymous concern, a coordinator's reply, and the sender reading it with the case key."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.app.demo.world import COORDINATOR, MENTEES, MENTORS, PROGRAM_ID, World, block_text
from bot.concerns.blocks import ACTION_REPLY, ACTION_SENDER_REPLY, TEXT_ACTION, TEXT_BLOCK
from storage.repositories.pairs import active_pairs_of, create_pair
from storage.repositories.people import upsert_person

SENDER, OTHER = MENTEES[0], MENTEES[1]
CONCERN = "The night registrar laughs at my accent at handover. I have stopped asking questions."
SENDER_ANSWER = "It is mostly on the Tuesday night handover. I would like it raised without my name."
COORDINATOR_REPLY = "Thank you for telling us. Is it one registrar, or a habit of the whole team?"


def run(world: World) -> None:
    _ensure_enrolled(world, SENDER, MENTORS[0])
    _ensure_enrolled(world, OTHER, MENTORS[-1])
    world.heading("/concern: a mentee raises a concern anonymously")
    form = _open_form(world)
    world.say(_indent(block_text(form["blocks"][:3])))
    _show_phi_guard(world, form)
    key = _submit(world, form, text=CONCERN, category="disrespect")
    world.heading("An urgent patient-safety concern goes to the coordinator channel at once")
    _submit(
        world,
        _open_form(world),
        text="Handover skipped the allergy check twice this week.",
        category="patient_safety",
    )
    world.fake.wait_for(lambda: bool(world.fake.messages("CDEMODIGEST")), what="the urgent post")
    world.say(_indent(block_text(world.fake.messages("CDEMODIGEST")[-1]["blocks"])))
    world.heading("/mentorship concerns, as the coordinator")
    listing = _list(world)
    world.say(_indent(block_text(listing["blocks"])))
    _coordinator_replies(world, listing)
    world.heading(f"/concern status {key}, as the sender")
    status_view = _status(world, key)
    world.say(_indent(block_text(status_view["blocks"])))
    world.heading("The sender answers, still anonymous; the coordinator sees it")
    _sender_answers(world, status_view)
    world.say(_indent(block_text(_list(world)["blocks"])))


def _ensure_enrolled(world: World, mentee: str, mentor: str) -> None:
    """The roster chapter pairs the cohort; pair a demo sender here if it has not."""
    now = world.clock.now
    with world.deps.sessions.begin() as session:
        if active_pairs_of(session, user_id=mentee, program_id=PROGRAM_ID):
            return
        for user_id in (mentor, mentee):
            upsert_person(session, user_id=user_id, now=now, display_name=world.name(user_id), refreshed=True)
        session.flush()  # people first: the pair refers to them
        create_pair(session, program_id=PROGRAM_ID, mentor_id=mentor, mentee_id=mentee, now=now)


def _views(world: World, method: str = "views.open") -> list[dict[str, Any]]:
    return [call.response["view"] for call in world.fake.calls_to(method, ok_only=True)]


def _new_view(world: World, before: int, method: str = "views.open") -> dict[str, Any]:
    world.fake.wait_for(lambda: len(world.fake.calls_to(method, ok_only=True)) > before, what=method)
    return _views(world, method)[before]


def _open_form(world: World, sender: str = SENDER) -> dict[str, Any]:
    before = len(_views(world))
    world.slack.command("/concern", "", user_id=sender)
    return _new_view(world, before)


def _option(view: dict[str, Any], block_id: str, value: str) -> dict[str, Any]:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    return dict(next(o for o in block["element"]["options"] if o["value"] == value))


def _state(form: dict[str, Any], *, text: str, category: str) -> dict[str, Any]:
    chosen = [_option(form, "replies", "yes")]
    values = {
        "category": {
            "category": {"type": "radio_buttons", "selected_option": _option(form, "category", category)}
        },
        "urgency": {
            "urgency": {"type": "radio_buttons", "selected_option": _option(form, "urgency", "routine")}
        },
        "text": {"text": {"type": "plain_text_input", "value": text}},
        "replies": {"replies": {"type": "checkboxes", "selected_options": chosen}},
        "involves": {"involves": {"type": "checkboxes", "selected_options": []}},
    }
    return {**form, "state": {"values": values}}


def _show_phi_guard(world: World, form: dict[str, Any]) -> None:
    world.say("  The sender first mentions a patient; the form refuses it:")
    _, body, _ = world.slack.view_submission(
        SENDER, view=_state(form, text="Mr Jones in bed 4 saw it", category="other")
    )
    world.say("  > " + json.loads(body)["errors"]["text"])


def _submit(world: World, form: dict[str, Any], *, text: str, category: str, sender: str = SENDER) -> str:
    _, body, _ = world.slack.view_submission(sender, view=_state(form, text=text, category=category))
    confirmation = json.loads(body)["view"]
    world.say("  Shown once, in the modal:")
    world.say(_indent(block_text(confirmation["blocks"]), "    "))
    found = re.search(r"`([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})`", block_text(confirmation["blocks"]))
    assert found is not None  # the confirmation always carries the key
    return found.group(1)


def _list(world: World) -> dict[str, Any]:
    _, body, _ = world.slack.command("/mentorship", "concerns", user_id=COORDINATOR)
    listing: dict[str, Any] = json.loads(body)
    return listing


def _coordinator_replies(world: World, listing: dict[str, Any]) -> None:
    reply = _reply_button_under(listing["blocks"], CONCERN)
    before = len(_views(world))
    message = {"ts": "1.0", "blocks": listing["blocks"], "text": listing["text"]}
    world.slack.block_action(COORDINATOR, action_id=reply["action_id"], value=reply["value"], message=message)
    modal = _new_view(world, before)
    world.slack.view_submission(COORDINATOR, view=_typed(modal, COORDINATOR_REPLY))
    world.say(f"  {world.name(COORDINATOR)} clicks Reply and writes: “{COORDINATOR_REPLY}”")


def _status(world: World, key: str) -> dict[str, Any]:
    before = len(_views(world))
    world.slack.command("/concern", f"status {key.lower()}", user_id=SENDER)
    return _new_view(world, before)


def _sender_answers(world: World, status_view: dict[str, Any]) -> None:
    before = len(_views(world, "views.push"))
    world.slack.block_action(SENDER, action_id=ACTION_SENDER_REPLY, value="reply", view=status_view)
    pushed = _new_view(world, before, "views.push")
    world.slack.view_submission(SENDER, view=_typed(pushed, SENDER_ANSWER))
    world.say(f"  The sender replies: “{SENDER_ANSWER}”")


def _typed(view: dict[str, Any], text: str) -> dict[str, Any]:
    typed = {TEXT_BLOCK: {TEXT_ACTION: {"type": "plain_text_input", "value": text}}}
    return {**view, "state": {"values": typed}}


def _reply_button_under(blocks: list[dict[str, Any]], text: str) -> dict[str, Any]:
    """The Reply button of the listed concern whose excerpt is `text`."""
    shown = ""
    for block in blocks:
        if block.get("type") == "section" and block["text"]["type"] == "plain_text":
            shown = block["text"]["text"]
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if shown == text and str(element.get("action_id", "")).startswith(f"{ACTION_REPLY}:"):
                return dict(element)
    raise LookupError(text)


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())
