"""The sender's Reply and Close act only with the seal issued when the case key opened the case: a concern
id — which every coordinator sees in button values — is not enough to speak or act as the sender."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.concerns.sender_seal import seal, verified
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from storage.models import Concern, ConcernMessage
from tests.support.concerns import (
    MENTEE,
    case_key,
    concern_status,
    enrol,
    opened_views,
    slack_json,
    submit_concern,
    view_text,
)
from tests.support.waiting import wait_until

SECRET_TEXT = "The consultant shouted at me in front of the family."


def _reply_view(private_metadata: str, text: str) -> dict[str, Any]:
    """A reply modal as a forger would send it back: the right callback id, any metadata."""
    return {
        "id": "V0FORGED",
        "type": "modal",
        "callback_id": "concern_sender_reply",
        "private_metadata": private_metadata,
        "blocks": [],
        "state": {"values": {"text": {"text": {"type": "plain_text_input", "value": text}}}},
    }


def _concern(deps: Deps) -> Concern:
    with deps.read_sessions.begin() as session:
        return session.scalars(select(Concern)).one()


def _messages(deps: Deps) -> int:
    with deps.read_sessions.begin() as session:
        return len(session.scalars(select(ConcernMessage.id)).all())


def test_a_forged_reply_with_a_valid_concern_id_but_no_seal_is_refused_and_stores_nothing(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    submit_concern(slack, fake_slack, text=SECRET_TEXT)
    concern = _concern(deps)
    for forged in (concern.id, f"{concern.id}.", f"{concern.id}.{'0' * 32}", f"{concern.id}.{'a' * 64}"):
        status, body, _ = slack.view_submission("U0COORD1", view=_reply_view(forged, "I am the sender."))
        reply = slack_json(body)
        assert status == 200 and reply["response_action"] == "errors"
        assert "No case matches" in reply["errors"]["text"] and SECRET_TEXT not in body
    assert _messages(deps) == 0


def test_a_forged_close_with_a_valid_concern_id_but_no_seal_changes_nothing_and_shows_nothing(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    submit_concern(slack, fake_slack, text=SECRET_TEXT)
    concern = _concern(deps)
    view = {**_reply_view(concern.id, ""), "callback_id": "concern_status"}
    slack.block_action("U0COORD1", action_id="concern_sender_close", value="close", view=view)
    wait_until(lambda: fake_slack.calls_to("chat.postEphemeral") or True, what="the refusal")
    assert _concern(deps).status == "open"
    shown = [call.args for call in fake_slack.calls_to("views.update")]
    assert not [args for args in shown if SECRET_TEXT in str(args)]


def test_a_seal_for_one_case_does_not_open_another(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    submit_concern(slack, fake_slack, text="First concern.")
    submit_concern(slack, fake_slack, text="Second concern.")
    with deps.read_sessions.begin() as session:
        first, second = session.scalars(select(Concern)).all()
    assert verified(deps.keys, first, seal(deps.keys, first))
    assert not verified(deps.keys, second, seal(deps.keys, first))
    moved = f"{second.id}.{seal(deps.keys, first).partition('.')[2]}"
    assert not verified(deps.keys, second, moved)


def test_the_sender_with_the_key_still_replies(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    key = case_key(submit_concern(slack, fake_slack, text=SECRET_TEXT))
    _, status_view = concern_status(slack, fake_slack, key)
    assert status_view is not None and status_view["private_metadata"] != _concern(deps).id
    slack.block_action(MENTEE, action_id="concern_sender_reply", value="reply", view=status_view)
    pushed = wait_until(lambda: opened_views(fake_slack, "views.push"), what="the reply modal")[0]
    _, body, _ = slack.view_submission(MENTEE, view=_reply_view(pushed["private_metadata"], "More detail."))
    assert slack_json(body)["response_action"] == "update"
    assert "More detail." in view_text(slack_json(body)["view"]) and _messages(deps) == 1
