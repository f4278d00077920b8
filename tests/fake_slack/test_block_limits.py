from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.fake_slack import validation
from bot.fake_slack.server import FakeSlack

CHANNEL = "C0LIMITS"


def option(text: str, value: str = "v") -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def choice_input(kind: str, options: list[dict[str, Any]], action_id: str = "a") -> dict[str, Any]:
    label = {"type": "plain_text", "text": "Choose"}
    element = {"type": kind, "action_id": action_id, "options": options}
    return {"type": "input", "label": label, "element": element}


def many(count: int) -> list[dict[str, Any]]:
    return [option(f"option {i}", str(i)) for i in range(count)]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        server.add_channel(CHANNEL, "limits")
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    fake.reset()
    fake.add_channel(CHANNEL, "limits")
    return WebClient(token="xoxb-fake", base_url=fake.url)


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        ({"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}, "3000"),
        ({"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}, "150"),
        ({"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}, "2000"),
        ({"type": "context", "elements": [{"type": "mrkdwn", "text": "x" * 3001}]}, "3000"),
        ({"type": "context", "elements": [{"type": "mrkdwn", "text": "x"}] * 11}, "10"),
        (choice_input("static_select", many(101)), "100"),
        (choice_input("multi_static_select", many(101)), "100"),
        (choice_input("checkboxes", many(11)), "10 options"),
        (choice_input("radio_buttons", many(11)), "10 options"),
        (choice_input("static_select", [option("x" * 76)]), "option text"),
        (choice_input("static_select", [option("x", "v" * 151)]), "option value"),
        (
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "x" * 76}, "action_id": "b"}
                ],
            },
            "75",
        ),
    ],
)
def test_blocks_over_a_slack_limit_are_rejected(
    fake: FakeSlack, client: WebClient, block: dict[str, Any], problem: str
) -> None:
    with pytest.raises(SlackApiError) as rejected:
        client.views_publish(user_id="U0LIMITS", view={"type": "home", "blocks": [block]})
    assert any(problem in error for error in rejected.value.response["errors"])
    assert [call.method for call in fake.invalid] == ["views.publish"]


def test_blocks_at_each_limit_are_accepted(fake: FakeSlack, client: WebClient) -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3000}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "x" * 3000}] * 10},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2000}]},
        choice_input("static_select", [option("x" * 75, "v" * 150), *many(99)]),
        choice_input("checkboxes", many(10), action_id="boxes"),
    ]
    assert client.chat_postMessage(channel=CHANNEL, text="fallback", blocks=blocks)["ok"]
    assert fake.invalid == []


def test_message_text_past_what_slack_shows_is_reported() -> None:
    assert validation.display_problems("x" * 4000) == []
    assert validation.display_problems("x" * 4001)


def test_an_options_answer_holds_at_most_a_hundred_options() -> None:
    assert validation.validate_options_response({"options": many(100)}) == []
    assert validation.validate_options_response({"options": many(101)})
    assert validation.validate_options_response({"options": [option("x" * 76)]})
