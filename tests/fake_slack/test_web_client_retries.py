"""The bot's WebClient against the fake: reads and updates are retried, a call that creates a message is
never repeated blindly, and a fenced send proves its claim again before each retry after a 429."""

from __future__ import annotations

import threading

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.fake_slack.server import FakeSlack
from bot.kernel.settings import Settings
from bot.slack.client import ClaimLost, build_web_client, send_fenced
from bot.slack.delivery import RETRY_AFTER
from tests.support.waiting import wait_until

CHANNEL = "C0DIGEST"


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(settings: Settings, fake_slack: FakeSlack, waits: list[float]) -> WebClient:
    fake_slack.add_channel(CHANNEL)
    return build_web_client(settings, sleep=waits.append)  # waits are recorded, not slept


def attempts(fake: FakeSlack, method: str) -> list[int]:
    return [call.status for call in fake.calls_to(method)]


def test_a_500_on_chat_post_message_is_not_retried(client: WebClient, fake_slack: FakeSlack) -> None:
    fake_slack.inject("chat.postMessage", 500, after_effect=True)
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel=CHANNEL, text="once")
    assert attempts(fake_slack, "chat.postMessage") == [500]
    assert len(fake_slack.messages(CHANNEL)) == 1


def test_a_dropped_connection_on_chat_post_message_is_not_retried(
    client: WebClient, fake_slack: FakeSlack
) -> None:
    fake_slack.inject("chat.postMessage", disconnect=True)
    with pytest.raises(OSError):
        client.chat_postMessage(channel=CHANNEL, text="once")
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_reads_and_updates_keep_their_retries(
    client: WebClient, fake_slack: FakeSlack, waits: list[float]
) -> None:
    fake_slack.inject("conversations.history", 500, times=2)
    assert client.conversations_history(channel=CHANNEL)["ok"]
    assert attempts(fake_slack, "conversations.history") == [500, 500, 200]
    posted = client.chat_postMessage(channel=CHANNEL, text="v1")
    fake_slack.inject("chat.update", disconnect=True)
    client.chat_update(channel=CHANNEL, ts=posted["ts"], text="v2")
    assert len(fake_slack.calls_to("chat.update")) == 2 and len(waits) == 3


def test_a_429_is_retried_after_its_retry_after_for_every_method(
    client: WebClient, fake_slack: FakeSlack, waits: list[float]
) -> None:
    fake_slack.inject("chat.postMessage", 429, retry_after=30, times=2)
    client.chat_postMessage(channel=CHANNEL, text="after the wait")
    assert attempts(fake_slack, "chat.postMessage") == [429, 429, 200]
    assert [int(wait) for wait in waits] == [30, 30]
    assert len(fake_slack.messages(CHANNEL)) == 1


def test_a_fenced_send_proves_its_claim_before_the_call_and_before_each_retry(
    client: WebClient, fake_slack: FakeSlack
) -> None:
    fake_slack.inject("chat.postMessage", 429, retry_after=30, times=2)
    proofs: list[bool] = [True, True, True]
    sent = send_fenced(lambda: proofs.pop(), lambda: client.chat_postMessage(channel=CHANNEL, text="ours"))
    assert sent["ok"] and proofs == []  # once before the call, once before each of the two retries
    fake_slack.inject("chat.postMessage", 429, retry_after=30)
    claim = iter([True, False])  # taken over while Slack made us wait
    with pytest.raises(ClaimLost):
        send_fenced(lambda: next(claim), lambda: client.chat_postMessage(channel=CHANNEL, text="not ours"))
    with pytest.raises(ClaimLost):
        send_fenced(lambda: False, lambda: client.chat_postMessage(channel=CHANNEL, text="never"))
    assert [m["text"] for m in fake_slack.messages(CHANNEL)] == ["ours"]


def test_a_429_pauses_every_thread_calling_that_method_until_its_retry_after(
    settings: Settings, fake_slack: FakeSlack
) -> None:
    """Slack limits per method: other threads must not spend the Retry-After window earning more 429s."""
    client = build_web_client(settings)  # real waits: Retry-After 1 s
    fake_slack.inject("users.info", 429, retry_after=1)
    first = threading.Thread(target=client.users_info, kwargs={"user": "U0MENTEE1"})
    first.start()
    wait_until(lambda: RETRY_AFTER.waiting("users.info") == 1, "the first caller sitting out its 429")
    others = [
        threading.Thread(target=client.users_info, kwargs={"user": user})
        for user in ("U0MENTEE2", "U0MENTEE3", "U0MENTOR1", "U0MENTOR2", "U0MENTEE1")
    ]
    for thread in others:
        thread.start()
    client.auth_test()  # another method is not held back
    for thread in [first, *others]:
        thread.join(timeout=10)
    throttled, *rest = fake_slack.calls_to("users.info")
    assert throttled.status == 429 and [call.status for call in rest] == [200] * 6
    assert min(call.at for call in rest) >= throttled.at + 1.0
    assert fake_slack.calls_to("auth.test")[-1].at < throttled.at + 1.0


def test_a_fenced_send_that_waited_behind_another_threads_429_proves_its_claim_again(
    settings: Settings, fake_slack: FakeSlack
) -> None:
    """Waiting at the gate can outlast a claim's lease: a claim taken over meanwhile is not sent."""
    fake_slack.add_channel(CHANNEL)
    client = build_web_client(settings)  # real waits: Retry-After 1 s
    fake_slack.inject("chat.postMessage", 429, retry_after=1)
    first = threading.Thread(target=client.chat_postMessage, kwargs={"channel": CHANNEL, "text": "first"})
    first.start()
    wait_until(lambda: RETRY_AFTER.waiting("chat.postMessage") == 1, "the first caller sitting out its 429")
    proofs: list[bool] = []

    def fence() -> bool:
        proofs.append(not proofs)  # ours at first, taken over while waiting at the gate
        return proofs[-1]

    with pytest.raises(ClaimLost):
        send_fenced(fence, lambda: client.chat_postMessage(channel=CHANNEL, text="second"))
    first.join(timeout=10)
    assert proofs == [True, False]
    assert [m["text"] for m in fake_slack.messages(CHANNEL)] == ["first"]
