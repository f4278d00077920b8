"""Helpers for the concern tests: drive /concern and its modals through signed HTTP like Slack does."""

from __future__ import annotations

import re
from typing import Any

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.fake_slack.validation import validate_view
from bot.kernel.deps import Deps
from tests.support.factories import make_pair
from tests.support.waiting import wait_until

MENTEE, MENTOR, COORDINATOR, DIO = "U0MENTEE1", "U0MENTOR1", "U0COORD1", "U0DIO"
PROGRAM = "img-2026"
KEY_RE = re.compile(r"`([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})`")


def enrol(deps: Deps, mentee: str = MENTEE, mentor: str = MENTOR, program_id: str = PROGRAM) -> None:
    make_pair(deps, mentor, mentee, program_id=program_id)


def opened_views(fake: FakeSlack, method: str = "views.open") -> list[dict[str, Any]]:
    return [call.response["view"] for call in fake.calls_to(method, ok_only=True)]


def open_concern_form(slack: SlackRequestSender, fake: FakeSlack, user_id: str = MENTEE) -> dict[str, Any]:
    before = len(opened_views(fake))
    status, body, _ = slack.command("/concern", "", user_id=user_id)
    assert status == 200 and not body, body
    views = wait_until(lambda: opened_views(fake)[before:], what="the concern modal")
    return dict(views[0])


def _option(view: dict[str, Any], block_id: str, value: str) -> dict[str, Any]:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    return dict(next(o for o in block["element"]["options"] if o["value"] == value))


def filled(
    view: dict[str, Any],
    *,
    text: str | None,
    category: str | None = "psychological_safety",
    urgency: str = "routine",
    replies: bool = True,
    involves: bool = False,
    program: str | None = None,
) -> dict[str, Any]:
    """The modal as Slack sends it back on submit, with the person's choices in its state."""
    values: dict[str, Any] = {
        "category": {"category": {"type": "radio_buttons", "selected_option": None}},
        "urgency": {
            "urgency": {"type": "radio_buttons", "selected_option": _option(view, "urgency", urgency)}
        },
        "text": {"text": {"type": "plain_text_input", "value": text}},
        "replies": {
            "replies": {
                "type": "checkboxes",
                "selected_options": [_option(view, "replies", "yes")] if replies else [],
            }
        },
        "involves": {
            "involves": {
                "type": "checkboxes",
                "selected_options": [_option(view, "involves", "yes")] if involves else [],
            }
        },
    }
    if category is not None:
        values["category"]["category"]["selected_option"] = _option(view, "category", category)
    if program is not None:
        values["program"] = {
            "program": {"type": "static_select", "selected_option": _option(view, "program", program)}
        }
    return {**view, "state": {"values": values}}


def submit_concern(
    slack: SlackRequestSender, fake: FakeSlack, user_id: str = MENTEE, **fields: Any
) -> dict[str, Any]:
    """Open /concern, fill it in and submit; returns the JSON the bot answered the submission with."""
    view = open_concern_form(slack, fake, user_id)
    status, body, _ = slack.view_submission(user_id, view=filled(view, **{"text": "x", **fields}))
    assert status == 200, body
    reply: dict[str, Any] = slack_json(body)
    if reply.get("response_action") == "update":
        assert validate_view(reply["view"], "modal") == [], validate_view(reply["view"], "modal")
    return reply


def slack_json(body: str) -> Any:
    import json

    return json.loads(body) if body else {}


def case_key(reply: dict[str, Any]) -> str:
    text = " ".join(b["text"]["text"] for b in reply["view"]["blocks"] if b.get("text"))
    found = KEY_RE.search(text)
    assert found, text
    return found.group(1)


def view_text(view: dict[str, Any]) -> str:
    """Every visible string in a view or message, for assertions."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for key, value in node.items():
                if key != "text" or not isinstance(value, str):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(view.get("blocks", view))
    return "\n".join(parts)


def concern_status(
    slack: SlackRequestSender, fake: FakeSlack, key: str, user_id: str = MENTEE
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """/concern status KEY: the ack body and the status modal opened for it (None when none opens)."""
    before = len(opened_views(fake))
    status, body, _ = slack.command("/concern", f"status {key}", user_id=user_id)
    assert status == 200
    reply = slack_json(body)
    if reply:
        return reply, None
    views = wait_until(lambda: opened_views(fake)[before:], what="the status modal")
    return reply, dict(views[0])


def button(blocks: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id", "").startswith(prefix):
                return dict(element)
    raise AssertionError(f"no {prefix} button")


def list_concerns(slack: SlackRequestSender, user_id: str = COORDINATOR, args: str = "") -> dict[str, Any]:
    status, body, _ = slack.command("/mentorship", f"concerns {args}".strip(), user_id=user_id)
    assert status == 200
    reply: dict[str, Any] = slack_json(body)
    return reply
