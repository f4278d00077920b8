"""Acceptance 4 (modal side): field errors for empty, blank, over-long and PHI-bearing text, on the
concern form and on both kinds of reply; nothing is stored when the form is refused."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from storage.models import Concern, ConcernMessage
from tests.support.concerns import (
    COORDINATOR,
    MENTEE,
    button,
    case_key,
    concern_status,
    enrol,
    filled,
    list_concerns,
    open_concern_form,
    opened_views,
    slack_json,
    submit_concern,
    view_text,
    wait_until,
)


def _count(deps: Deps, model: type[Any]) -> int:
    with deps.sessions.begin() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param(None, "the text is empty", id="empty"),
        pytest.param("", "the text is empty", id="empty-string"),
        pytest.param("   \n\t  ", "the text is empty", id="whitespace-only"),
        pytest.param("x" * 3001, "shorten it to 3,000 characters (it has 3,001)", id="over-long"),
        pytest.param("Patient John was left alone", "looks like a patient's name (“Patient John”)", id="phi"),
        pytest.param("Call me on 555-123-4567", "looks like a phone number", id="phone"),
    ],
)
def test_bad_text_gets_a_field_error_and_nothing_is_stored(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack, text: str | None, error: str
) -> None:
    enrol(deps)
    reply = submit_concern(slack, fake_slack, text=text)
    assert reply["response_action"] == "errors"
    assert list(reply["errors"]) == ["text"] and error in reply["errors"]["text"]
    assert _count(deps, Concern) == 0


def test_exactly_3000_characters_is_accepted(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    assert submit_concern(slack, fake_slack, text="a" * 3000)["response_action"] == "update"


def test_a_missing_category_is_a_field_error(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    reply = submit_concern(slack, fake_slack, text="Nobody explains the EHR.", category=None)
    assert reply == {
        "response_action": "errors",
        "errors": {"category": "Please choose what the concern is about."},
    }


def test_someone_not_enrolled_is_told_so_without_a_modal(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    status, body, _ = slack.command("/concern", "", user_id="U0OUTSIDE")
    assert status == 200 and "for people enrolled in a mentorship program" in slack_json(body)["text"]
    assert fake_slack.calls_to("views.open") == []


def test_text_typed_after_the_command_is_put_into_the_form(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    slack.command("/concern", "nobody answers my pages", user_id=MENTEE)
    view = wait_until(lambda: opened_views(fake_slack), what="the form")[0]
    text_block = next(b for b in view["blocks"] if b.get("block_id") == "text")
    assert text_block["element"]["initial_value"] == "nobody answers my pages"


def test_a_person_in_two_programs_chooses_one(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    enrol(deps, mentee=MENTEE, mentor="U0MENTOR2", program_id="nursing-2026")
    view = open_concern_form(slack, fake_slack)
    assert view["private_metadata"] == ""
    _, body, _ = slack.view_submission(MENTEE, view=filled(view, text="Night float is unsafe."))
    assert slack_json(body)["errors"] == {"program": "Please choose the program this is about."}
    _, body, _ = slack.view_submission(
        MENTEE, view=filled(view, text="Night float is unsafe.", program="nursing-2026")
    )
    assert slack_json(body)["response_action"] == "update"
    with deps.sessions.begin() as session:
        assert session.scalars(select(Concern.program_id)).one() == "nursing-2026"


def _typed(view: dict[str, Any], text: str) -> dict[str, Any]:
    return {**view, "state": {"values": {"text": {"text": {"type": "plain_text_input", "value": text}}}}}


def test_replies_are_guarded_too(deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack) -> None:
    enrol(deps)
    key = case_key(submit_concern(slack, fake_slack, text="Feedback is only ever negative."))
    _, status_view = concern_status(slack, fake_slack, key)
    assert status_view is not None
    slack.block_action(MENTEE, action_id="concern_sender_reply", value="reply", view=status_view)
    pushed = wait_until(lambda: opened_views(fake_slack, "views.push"), what="the reply modal")[0]
    for bad, error in (("   ", "the text is empty"), ("see MRN 1234567", "medical record number")):
        _, body, _ = slack.view_submission(MENTEE, view=_typed(pushed, bad))
        assert error in slack_json(body)["errors"]["text"]

    listing = list_concerns(slack)
    reply = button(listing["blocks"], "concern_reply:")
    before = len(opened_views(fake_slack))
    slack.block_action(
        COORDINATOR, action_id=reply["action_id"], value=reply["value"], message={"ts": "1.0", **listing}
    )
    modal = wait_until(lambda: opened_views(fake_slack)[before:], what="the coordinator reply modal")[0]
    _, body, _ = slack.view_submission(COORDINATOR, view=_typed(modal, "Was it about Mrs. Patel?"))
    assert "patient's name" in slack_json(body)["errors"]["text"]
    assert _count(deps, ConcernMessage) == 0


def test_no_reply_button_when_the_sender_declined_replies(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    submit_concern(slack, fake_slack, text="Just so you know: rota gaps again.", replies=False)
    listing = list_concerns(slack)
    assert "the sender asked for no replies" in view_text(listing)
    with pytest.raises(AssertionError):
        button(listing["blocks"], "concern_reply:")
