"""Acceptance 8 of issue 13: accessible by default, checked over every surface the bot renders.

The walk is the whole offline demo (every chapter drives its feature against the fake Slack), then the
App Home of a coordinator, a mentor, a mentee and the IMG on a track, the command replies, and the one
path that answers with an ephemeral. Every recorded call and reply goes through the checker in
tests/support/accessibility.py, whose docstring states the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from bot.app.demo.run import CHAPTERS
from bot.app.demo.world import COORDINATOR, PROGRAM_ID, World, open_world
from bot.checkins.blocks import ANSWER_CALLBACK
from bot.concerns.blocks import SUBMIT as CONCERN_CALLBACK
from bot.fake_slack.models import Call
from bot.ideas.blocks import NEW_CALLBACK as IDEA_CALLBACK
from bot.matching.blocks import LEAVE_ACTION, PROFILE_CALLBACK
from bot.reflections.blocks import CALLBACK_ID as REFLECT_CALLBACK
from tests.support.accessibility import Audit, Violation, audit

MENTOR, MENTEE, LICENSEE = "UDEMOMR1", "UDEMOME1", "UDEMOME2"
# Every kind of surface the bot renders; the walk must have met each one.
SURFACE_KINDS = {
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.update",
    "views.publish",
    "views.open",
    "views.update",
    "views.push",
    "files.getUploadURLExternal",  # the digest's trend chart
    "response_url",
    "command reply",
}
# The modals of /checkin (Answer), /concern, /reflect, /idea and /mentorship join.
MODALS = {ANSWER_CALLBACK, CONCERN_CALLBACK, REFLECT_CALLBACK, IDEA_CALLBACK, PROFILE_CALLBACK}
COMMANDS = [
    ("/mentorship", "help", COORDINATOR),
    ("/mentorship", "help", MENTEE),
    ("/mentorship", "status", COORDINATOR),
    ("/mentorship", "status", MENTOR),
    ("/mentorship", "status", MENTEE),
    ("/mentorship", "concerns", COORDINATOR),
    ("/checkin", "", MENTEE),
]


@dataclass(frozen=True)
class Walk:
    calls: list[Call]
    result: Audit


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Walk:
    out = tmp_path_factory.mktemp("accessibility") / "demo-output"
    with open_world(out) as world:
        for chapter in CHAPTERS:
            chapter(world)
        for user_id in (COORDINATOR, MENTOR, MENTEE, LICENSEE):
            _open_home(world, user_id)
        replies = _command_replies(world)
        _press_leave_outside_a_message(world)
        calls, responses = world.fake.calls, world.fake.responses
    return Walk(calls, audit(calls, responses, replies))


def test_every_surface_the_bot_renders_is_accessible(walk: Walk) -> None:
    assert not walk.result.violations, _listing(walk.result.violations)


def test_the_walk_meets_every_kind_of_surface_and_every_modal(walk: Walk) -> None:
    assert SURFACE_KINDS <= set(walk.result.seen), f"not seen: {SURFACE_KINDS - set(walk.result.seen)}"
    opened = {call.args["view"].get("callback_id") for call in walk.calls if call.method == "views.open"}
    assert opened >= MODALS, f"modals not opened: {MODALS - opened}"
    homes = {call.args["user_id"] for call in walk.calls if call.method == "views.publish"}
    assert {COORDINATOR, MENTOR, MENTEE, LICENSEE} <= homes


def test_the_chart_upload_states_the_trend_in_words(walk: Walk) -> None:
    uploads = [call for call in walk.calls if call.method == "files.getUploadURLExternal"]
    assert uploads
    for call in uploads:
        alt = call.args["alt_txt"]
        assert "weekly wellbeing (1–5)" in alt and "weekly psychological safety (1–7)" in alt
        assert "8 weeks to" in alt


def test_the_checker_names_each_kind_of_violation_and_its_surface() -> None:
    button = {"type": "button", "text": {"type": "plain_text", "text": "Open"}, "action_id": "open"}
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Your check-in* for Thu 5 Nov"}},
        {"type": "actions", "elements": [button, {**button, "accessibility_label": "Open"}]},
        {"type": "image", "image_url": "https://example.org/x.png", "alt_text": "image"},
    ]
    calls = [
        _call("chat.postMessage", channel="D1", text="New message", blocks=blocks),
        _call("chat.update", channel="D1", text="Something else entirely here", blocks=blocks[:1]),
        _call("files.getUploadURLExternal", filename="trend.png", length=9, alt_txt="chart"),
        _call("files.getUploadURLExternal", filename="export.csv", length=9),
    ]
    replies = [("/checkin as U1", {"text": "ok", "blocks": blocks[:1]})]
    violations = audit(calls, [("R1", {"delete_original": True})], replies).violations
    kinds = [(v.kind, v.surface.split(" ")[0]) for v in violations]
    assert kinds == [
        ("fallback", "chat.postMessage"),
        ("button", "chat.postMessage"),
        ("button", "chat.postMessage"),
        ("image", "chat.postMessage"),
        ("fallback", "chat.update"),
        ("chart", "files.getUploadURLExternal"),
        ("fallback", "command"),
    ]
    assert "no accessibility_label" in violations[1].detail and "does not say" in violations[2].detail


def test_a_fallback_that_says_what_its_blocks_say_passes() -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Dr. Ito* logged a session on *Mon 9 Nov*"}}
    ]
    label = "Confirm the session Dr. Ito logged on Mon 9 Nov"
    blocks.append({"type": "actions", "elements": [_button("Confirm", label)]})
    call = _call(
        "chat.postMessage",
        channel="D1",
        text="Dr. Ito logged a 45-minute session on Mon 9 Nov",
        blocks=blocks,
    )
    assert audit([call]).violations == []


def _open_home(world: World, user_id: str) -> None:
    published = len(world.fake.calls_to("views.publish"))
    world.slack.event({"type": "app_home_opened", "user": user_id, "tab": "home", "channel": "DA11Y"})
    world.fake.wait_for(lambda: len(world.fake.calls_to("views.publish")) > published, what="the App Home")


def _command_replies(world: World) -> list[tuple[str, dict[str, Any]]]:
    """What each command answers in its HTTP reply (Slack shows it as an ephemeral)."""
    replies = []
    for command, text, user_id in COMMANDS:
        response = world.slack.command(command, text, user_id=user_id)
        assert response.status == 200
        if response.body:
            replies.append((f"{command} {text} as {user_id}", response.json()))
    return replies


def _press_leave_outside_a_message(world: World) -> None:
    """A button press that names a channel but carries no response_url: `tell` answers with an ephemeral."""
    fake = world.fake
    sent, published = len(fake.calls_to("chat.postEphemeral")), len(fake.calls_to("views.publish"))
    channel = fake.dm_channel(MENTEE)
    world.slack.block_action(
        MENTEE, action_id=f"{LEAVE_ACTION}.{PROGRAM_ID}", value=PROGRAM_ID, channel_id=channel
    )
    fake.wait_for(lambda: len(fake.calls_to("chat.postEphemeral")) > sent, what="the ephemeral")
    # Then the Home is redrawn: wait for it, or the world closes under the listener.
    fake.wait_for(lambda: len(fake.calls_to("views.publish")) > published, what="the Home redrawn")


def _call(method: str, **args: Any) -> Call:
    return Call(method, args, "xoxb-test", 200, {"ok": True}, 0.0)


def _button(face: str, label: str) -> dict[str, Any]:
    text = {"type": "plain_text", "text": face}
    return {"type": "button", "text": text, "action_id": face.lower(), "accessibility_label": label}


def _listing(violations: list[Violation]) -> str:
    return f"{len(violations)} accessibility violations:\n" + "\n".join(map(str, violations))
