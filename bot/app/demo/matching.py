"""Demo chapter: a spring intake round (mentors and mentees fill in the profile modal after `/mentorship
join`), then the coordinator proposes matches from App Home, sees why each pair was made and who is left
out, and approves; each side's welcome DM says why they were matched."""

from __future__ import annotations

import json
from typing import Any

from bot.app.demo.world import COORDINATOR, PROGRAM_ID, World, block_text
from bot.fake_slack.models import FakeUser
from bot.matching.blocks import APPROVE_ACTION, PROFILE_CALLBACK, PROPOSE_ACTION

# The spring intake: new mentors and mentees (the roster chapter's cohort already has its pairs).
INTAKE = {
    "UDEMOMR3": ("Dr. Lucia Ferreira", "America/New_York"),
    "UDEMOMR4": ("Dr. Samuel Adeyemi", "America/Chicago"),
    "UDEMOMR5": ("Dr. Priya Nair", "America/New_York"),
    "UDEMOME7": ("Dr. Tiago Souza", "America/Sao_Paulo"),
    "UDEMOME8": ("Dr. Chidi Okeke", "Africa/Lagos"),
    "UDEMOME9": ("Dr. Ananya Rao", "Asia/Kolkata"),
    "UDEMOME10": ("Dr. Omar Said", "Asia/Dubai"),
}
MENTORS: dict[str, dict[str, Any]] = {
    "UDEMOMR3": {
        "specialty": "Internal medicine",
        "languages": "Portuguese, English",
        "trained_in": "Brazil",
    },
    "UDEMOMR4": {"specialty": "Pediatrics", "languages": "Yoruba, English", "trained_in": "Nigeria"},
    "UDEMOMR5": {"specialty": "Psychiatry", "languages": "Hindi, English", "trained_in": "India"},
}
MENTEES: dict[str, dict[str, Any]] = {
    "UDEMOME7": {"specialty": "Internal medicine", "languages": "Portuguese", "trained_in": "Brazil"},
    "UDEMOME8": {"specialty": "Pediatrics", "languages": "Yoruba, English", "trained_in": "Nigeria"},
    # Dr. Nair evaluates Dr. Rao: her avoid list says so, and nobody else ever sees it.
    "UDEMOME9": {
        "specialty": "Psychiatry",
        "languages": "Hindi",
        "trained_in": "India",
        "avoid": ["UDEMOMR5"],
    },
    "UDEMOME10": {"specialty": "Surgery", "languages": "Arabic", "trained_in": "Egypt"},
}
RANKS = {"UDEMOME7": "UDEMOMR3"}  # mentee -> the mentor they rank first


def run(world: World) -> None:
    world.heading("Matching: an intake round in Slack, then a proposal the coordinator approves")
    for user_id, (name, zone) in INTAKE.items():
        world.fake.add_user(FakeUser(id=user_id, name=name.split()[-1].lower(), real_name=name, tz=zone))
    for user_id, answers in MENTORS.items():
        _join(world, user_id, {"role": "mentor", "capacity": "2", "focus": ["Cultural fluency"], **answers})
    for user_id, answers in MENTEES.items():
        _join(
            world, user_id, {"role": "mentee", "focus": ["Cultural fluency"], "formats": ["video"], **answers}
        )
    world.say(f"{len(MENTORS)} mentors and {len(MENTEES)} mentees joined with /mentorship join.")
    world.say(
        "Dr. Rao's avoid list names her evaluator; only she sees it, and it is never given as a reason."
    )
    view = _propose(world)
    world.say()
    world.say("The coordinator's proposal (App Home > Propose matches):")
    _say(world, view["blocks"])
    _approve(world, view)
    world.say()
    world.say("Dr. Souza's welcome DM says why:")
    _say(world, world.fake.messages("UDEMOME7")[-1]["blocks"][:3])


def _join(world: World, user_id: str, answers: dict[str, Any]) -> None:
    """`/mentorship join` over signed HTTP, then the modal filled in and submitted as a person would."""
    opened = len(world.fake.calls_to("views.open", ok_only=True))
    world.slack.command("/mentorship", "join", user_id=user_id)
    world.fake.wait_for(
        lambda: len(world.fake.calls_to("views.open", ok_only=True)) > opened, what="the modal"
    )
    view = world.fake.views[-1]
    assert view["callback_id"] == PROFILE_CALLBACK
    if user_id in RANKS:
        answers = {**answers, "rank_1": _option_for(view, INTAKE[RANKS[user_id]][0])}
    status, body, _ = world.slack.view_submission(user_id, view=_filled(view, answers))
    assert status == 200 and json.loads(body)["response_action"] == "update", body


def _option_for(view: dict[str, Any], name: str) -> str:
    block = next(b for b in view["blocks"] if b.get("block_id") == "rank_1")
    return str(next(o["value"] for o in block["element"]["options"] if o["text"]["text"].startswith(name)))


def _propose(world: World) -> dict[str, Any]:
    world.slack.block_action(COORDINATOR, action_id=f"{PROPOSE_ACTION}.{PROGRAM_ID}", value=PROGRAM_ID)
    world.fake.wait_for(
        lambda: any("proposal" in (v.get("private_metadata") or "") for v in world.fake.views),
        timeout=20,
        what="the proposal",
    )
    return next(v for v in world.fake.views if "proposal" in (v.get("private_metadata") or ""))


def _approve(world: World, view: dict[str, Any]) -> None:
    button = next(
        e
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == APPROVE_ACTION
    )
    world.say(f"The coordinator presses [{button['text']['text']}].")
    world.slack.block_action(COORDINATOR, action_id=APPROVE_ACTION, value=button["value"], view=view)
    world.fake.wait_for(
        lambda: "Approved proposal" in json.dumps(world.fake.view(view["id"])),
        timeout=20,
        what="the approval",
    )
    world.say(block_text((world.fake.view(view["id"]) or {}).get("blocks")))


def _say(world: World, blocks: list[dict[str, Any]]) -> None:
    for line in block_text(blocks).splitlines():
        world.say(f"    {line}")


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
    if kind in ("static_select", "radio_buttons"):
        return {"type": kind, "selected_option": options[answer] if answer else element.get("initial_option")}
    if kind in ("checkboxes", "multi_static_select"):
        return {"type": kind, "selected_options": [options[a] for a in answer or []]}
    if kind == "multi_users_select":
        return {"type": kind, "selected_users": list(answer or [])}
    return {"type": kind, "value": answer}
