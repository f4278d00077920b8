"""The real app over Socket Mode: a real WebSocket to the fake Slack's endpoint, faults included."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest

from bot.app.bolt_app import build_app
from bot.app.socket_mode import SocketModeRefused, SocketModeRunner, SocketModeSettings
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.fake_slack.socket_requests import SocketModeSender
from bot.kernel.deps import Deps
from tests.support.concerns import (
    COORDINATOR,
    MENTEE,
    button,
    case_key,
    enrol,
    list_concerns,
    opened_views,
    slack_json,
    submit_concern,
    view_text,
)
from tests.support.socket_mode import APP_TOKEN, newest_link, next_hello, socket_mode_bot
from tests.support.waiting import wait_until

FAST_RETRIES = SocketModeSettings(retry_delays=(0.05,), disabled_delays=(0.2, 0.4, 0.8))


@pytest.fixture
def sender(fake_slack: FakeSlack) -> SocketModeSender:
    return SocketModeSender(fake_slack)


def help_text(sender: SlackRequestSender) -> str:
    reply: dict[str, Any] = sender.command("/mentorship", "help", user_id=COORDINATOR).json()
    return str(reply["text"])


def test_commands_actions_submissions_and_events_are_acked_and_handled(
    deps: Deps, fake_slack: FakeSlack, sender: SocketModeSender
) -> None:
    enrol(deps)
    with socket_mode_bot(deps, fake_slack):
        assert "/mentorship pair" in help_text(sender)
        assert sender.command("/checkin", user_id=MENTEE).json()["text"]

        key = case_key(submit_concern(sender, fake_slack, text="Handover on nights is rushed."))
        listing = list_concerns(sender)
        assert "Handover on nights" in view_text(listing)
        reply_button = button(listing["blocks"], "concern_reply:")
        before = len(opened_views(fake_slack))
        sender.block_action(
            COORDINATOR,
            action_id=reply_button["action_id"],
            value=reply_button["value"],
            message={"ts": "1.0", "blocks": listing["blocks"], "text": listing["text"]},
            channel_id="D0COORD",
        )
        modal = wait_until(lambda: opened_views(fake_slack)[before:], what="the reply modal")[0]
        answer = {"text": {"text": {"type": "plain_text_input", "value": "Which unit was it?"}}}
        saved = slack_json(
            sender.view_submission(COORDINATOR, view={**modal, "state": {"values": answer}}).body
        )
        assert saved["response_action"] == "update" and "Reply saved" in view_text(saved["view"])

        sender.event({"type": "app_home_opened", "user": MENTEE, "channel": "DU0MENTEE1", "tab": "home"})
        wait_until(lambda: fake_slack.home_view(MENTEE), what="the Home tab published")
    assert len(key) == 14
    assert all(link.fault is None for link in fake_slack.socket_mode.links)


def test_a_burst_of_200_commands_is_acked_exactly_once(deps: Deps, fake_slack: FakeSlack) -> None:
    sm = fake_slack.socket_mode
    payload = {"command": "/mentorship", "text": "help", "user_id": COORDINATOR, "team_id": "T0MENTOR"}
    with socket_mode_bot(deps, fake_slack):
        sent = [sm.send("slash_commands", {**payload, "trigger_id": f"{i}.1.x"}) for i in range(200)]
        sm.wait_for(lambda: len(sm.acks) >= 200, timeout=60, what="200 acks")
        acks = sm.acks
    assert sorted(ack.envelope_id for ack in acks) == sorted(sent)
    assert all("/mentorship pair" in (ack.payload or {}).get("text", "") for ack in acks)
    assert max(ack.at - sm.envelope(ack.envelope_id).sent_at for ack in acks) < 3.0


@pytest.mark.parametrize("kind", ["fin", "rst", "close"])
def test_a_dropped_link_is_replaced_within_five_seconds(
    deps: Deps, fake_slack: FakeSlack, sender: SocketModeSender, kind: str
) -> None:
    sm = fake_slack.socket_mode
    with socket_mode_bot(deps, fake_slack) as runner:
        cpu, top = time.process_time(), newest_link(fake_slack)
        broken = sm.fault(kind)  # type: ignore[arg-type]
        hello = next_hello(fake_slack, after=top, timeout=10)
        assert "/mentorship pair" in help_text(sender)
        recovery = hello.hello_at - (sm.link(broken).fault_at or 0.0)  # type: ignore[operator]
        assert runner.connected()
    assert recovery < 5.0, f"{kind}: reconnected after {recovery:.2f}s"
    assert time.process_time() - cpu < 2.0  # no loop spinning on the dead socket


def test_a_half_open_link_is_noticed_and_replaced_within_fifteen_seconds(
    deps: Deps, fake_slack: FakeSlack, sender: SocketModeSender
) -> None:
    sm = fake_slack.socket_mode
    with socket_mode_bot(deps, fake_slack) as runner:
        top = newest_link(fake_slack)
        cpu, started = time.process_time(), time.monotonic()
        silent = sm.fault("silence")
        hello = next_hello(fake_slack, after=top, timeout=20)
        busy = (time.process_time() - cpu) / (time.monotonic() - started)
        assert "/mentorship pair" in help_text(sender)
        assert runner.connected()
    recovery = hello.hello_at - (sm.link(silent).fault_at or 0.0)  # type: ignore[operator]
    assert recovery < 15.0, f"half-open link replaced after {recovery:.2f}s"
    assert busy < 0.25, f"{busy:.0%} of a core while waiting for the pong"


@pytest.mark.parametrize("reason", ["refresh_requested", "warning"])
def test_after_slack_asks_to_reconnect_the_new_link_acks_within_a_second_of_its_hello(
    deps: Deps, fake_slack: FakeSlack, reason: str
) -> None:
    sm = fake_slack.socket_mode
    payload = {"command": "/mentorship", "text": "help", "user_id": COORDINATOR, "team_id": "T0MENTOR"}
    with socket_mode_bot(deps, fake_slack) as runner:
        delays = []
        for _ in range(3):
            old = newest_link(fake_slack)
            sm.disconnect(reason, close_after=10.0)  # type: ignore[arg-type]
            hello = next_hello(fake_slack, after=old, timeout=10)
            ack = sm.wait_for_ack(sm.send("slash_commands", payload, link=hello.id))
            delays.append(ack.at - hello.hello_at)  # type: ignore[operator]
            assert sm.wait_closed(old, timeout=5).fault == reason  # closed by the bot, not Slack's 10 s
            assert runner.connected()
    assert max(delays) < 1.0, delays


def test_link_disabled_is_one_line_and_retried_with_growing_delays(
    deps: Deps, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    sm = fake_slack.socket_mode
    with socket_mode_bot(deps, fake_slack, FAST_RETRIES) as runner:
        sm.enabled = False
        sm.disconnect("link_disabled", close_after=0.0)
        sm.wait_for(lambda: len(sm.links) >= 4, timeout=10, what="three retries")
        assert not runner.connected()
        opened = [link.opened_at for link in sm.links]
        gaps = [later - earlier for earlier, later in zip(opened[1:], opened[2:], strict=False)]
        sm.enabled = True
        top = newest_link(fake_slack)
        next_hello(fake_slack, after=top, timeout=10)
        wait_until(runner.connected, what="connected again")
    assert gaps[0] < gaps[1], gaps
    said = [r for r in caplog.records if r.name == "mentorbot.socket_mode" and r.levelno >= logging.ERROR]
    assert said and all("link_disabled" in r.getMessage() and "\n" not in r.getMessage() for r in said)
    assert not any(r.exc_info for r in caplog.records)


def test_a_refused_app_token_stops_with_one_line(deps: Deps, fake_slack: FakeSlack) -> None:
    fake_slack.socket_mode.refuse(APP_TOKEN)
    runner = SocketModeRunner(build_app(deps), APP_TOKEN, client=deps.client)
    with pytest.raises(SocketModeRefused) as refused:
        runner.run()
    assert str(refused.value).startswith(
        "SLACK_APP_TOKEN: Slack refused it (invalid_auth); create an app-level"
    )
    assert "\n" not in str(refused.value)
    assert not runner.connected()


def test_connected_follows_the_link(deps: Deps, fake_slack: FakeSlack) -> None:
    sm = fake_slack.socket_mode
    sm.enabled = False
    with socket_mode_bot(deps, fake_slack, FAST_RETRIES, wait=False) as runner:
        sm.wait_for(lambda: sm.tickets_issued >= 1, what="a first attempt")
        assert not runner.connected()
        sm.enabled = True
        next_hello(fake_slack, after=0, timeout=10)
        wait_until(runner.connected, what="connected")
    assert not runner.connected()


def test_stopping_closes_the_link_with_a_close_frame(deps: Deps, fake_slack: FakeSlack) -> None:
    with socket_mode_bot(deps, fake_slack):
        link = newest_link(fake_slack)
    closed = fake_slack.socket_mode.wait_closed(link)
    assert closed.fault is None


def test_an_ack_waits_for_a_slow_listener_and_survives_a_handoff(deps: Deps, fake_slack: FakeSlack) -> None:
    """An envelope being handled when Slack asks for a new link is still acked, on either link."""
    sm = fake_slack.socket_mode
    release = threading.Event()
    app = build_app(deps)
    app.command("/slow")(lambda ack: (release.wait(5), ack("done")))
    runner = SocketModeRunner(app, APP_TOKEN, client=deps.client)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    try:
        sm.wait_for_hello(timeout=10)
        old = newest_link(fake_slack)
        slow = sm.send("slash_commands", {"command": "/slow", "text": "", "user_id": COORDINATOR})
        sm.disconnect("refresh_requested", close_after=10.0)
        next_hello(fake_slack, after=old, timeout=10)
        release.set()
        assert sm.wait_for_ack(slow).payload == {"text": "done"}
    finally:
        runner.stop()
        thread.join(10)


def test_links_that_keep_dying_right_after_hello_are_retried_with_growing_delays(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    sm = fake_slack.socket_mode
    with socket_mode_bot(deps, fake_slack, SocketModeSettings(retry_delays=(0.3, 0.6))):
        for _ in range(3):
            top = newest_link(fake_slack)
            sm.fault("fin", link=top)
            next_hello(fake_slack, after=top, timeout=10)
    first, second, third, fourth = sm.links[:4]
    gaps = [b.opened_at - (a.fault_at or 0.0) for a, b in ((first, second), (second, third), (third, fourth))]
    assert gaps[0] < 0.3 <= gaps[1] and 0.6 <= gaps[2], gaps
