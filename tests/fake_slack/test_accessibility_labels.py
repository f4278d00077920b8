"""The fake takes a button's accessibility_label as Slack does: a string of 1 to 75 characters."""

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.fake_slack.models import FakeUser
from bot.fake_slack.server import FakeSlack

USER = "U0LABEL"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    # Not the shared fixture: these tests send Block Kit Slack rejects on purpose.
    with FakeSlack() as fake:
        fake.add_user(FakeUser(id=USER, name="label"))
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.url)


def _button(label: Any) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": "Open"},
        "action_id": "open",
        "accessibility_label": label,
    }


def test_a_button_label_of_75_characters_is_accepted_in_messages_and_views(
    fake: FakeSlack, client: WebClient
) -> None:
    label = "Open the check-in " + "x" * 57
    assert len(label) == 75
    blocks = [{"type": "actions", "elements": [_button(label)]}]
    assert client.chat_postMessage(channel=USER, text="A check-in to open", blocks=blocks)["ok"]
    home = {"type": "home", "blocks": [{**blocks[0], "block_id": "b"}]}
    assert client.views_publish(user_id=USER, view=home)["ok"]
    assert fake.invalid == []
    assert fake.messages(USER)[0]["blocks"][0]["elements"][0]["accessibility_label"] == label


@pytest.mark.parametrize(
    ("label", "problem"),
    [
        ("x" * 76, "accessibility_label attribute cannot exceed 75 characters"),
        ("", "accessibility_label must be a non-empty string"),
        ({"type": "plain_text", "text": "Open"}, "accessibility_label must be a non-empty string"),
    ],
)
def test_a_button_label_too_long_empty_or_not_a_string_is_rejected(
    fake: FakeSlack, client: WebClient, label: Any, problem: str
) -> None:
    section = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "A check-in"},
        "accessory": _button(label),
    }
    with pytest.raises(SlackApiError) as rejected:
        client.chat_postMessage(channel=USER, text="A check-in to open", blocks=[section])
    assert rejected.value.response["error"] == "invalid_blocks"
    assert any(problem in error for error in rejected.value.response["errors"])
    assert [call.method for call in fake.invalid] == ["chat.postMessage"]
