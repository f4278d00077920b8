"""The fake's faults for exactly-once tests: "post, then answer 500", faults limited to one channel,
and an error code forced on a method (or on every method) until lifted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.fake_slack.models import FakeUser
from bot.fake_slack.server import FakeSlack

AMARA = FakeUser(id="U0MENTEE1", name="amara", real_name="Amara Okafor")


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_user(AMARA)
        fake.add_channel("C0DIGEST")
        fake.add_channel("C0OTHER")
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.url)  # no retry handlers: one request per call


def test_post_then_500_posts_the_message_and_answers_500(fake: FakeSlack, client: WebClient) -> None:
    fake.inject("chat.postMessage", 500, after_effect=True)
    with pytest.raises(SlackApiError) as failed:
        client.chat_postMessage(channel="C0DIGEST", text="landed")
    assert failed.value.response.status_code == 500
    assert [m["text"] for m in fake.messages("C0DIGEST")] == ["landed"]
    [call] = fake.calls_to("chat.postMessage")
    assert (call.status, call.ok) == (500, False)  # recorded as the caller saw it
    client.chat_postMessage(channel="C0DIGEST", text="next")  # one-shot
    assert len(fake.messages("C0DIGEST")) == 2


def test_a_fault_limited_to_a_channel_leaves_other_channels_and_dms_alone(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.set_error_rate("chat.postMessage", 500, 1.0, channel="C0DIGEST")
    fake.inject("chat.postMessage", error="not_in_channel", channel=AMARA.id)  # a user id: their DM
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0DIGEST", text="refused")
    client.chat_postMessage(channel="C0OTHER", text="fine")
    with pytest.raises(SlackApiError, match="not_in_channel"):
        client.chat_postMessage(channel=AMARA.id, text="refused once")
    client.chat_postMessage(channel=AMARA.id, text="then fine")
    assert fake.messages("C0DIGEST") == []
    assert [m["text"] for m in fake.messages("C0OTHER")] == ["fine"]
    assert [m["text"] for m in fake.messages(AMARA.id)] == ["then fine"]
    fake.set_error_rate("chat.postMessage", 500, 0, channel="C0DIGEST")
    client.chat_postMessage(channel="C0DIGEST", text="after")
    assert [m["text"] for m in fake.messages("C0DIGEST")] == ["after"]


def test_a_forced_error_answers_every_call_until_lifted(fake: FakeSlack, client: WebClient) -> None:
    fake.force_error("*", "token_revoked")
    for call in (client.auth_test, lambda: client.users_info(user=AMARA.id)):
        with pytest.raises(SlackApiError, match="token_revoked"):
            call()
    fake.force_error("*", None)
    assert client.auth_test()["ok"]
    fake.force_error("users.info", "user_not_found")
    assert client.auth_test()["ok"]
    with pytest.raises(SlackApiError, match="user_not_found"):
        client.users_info(user=AMARA.id)
