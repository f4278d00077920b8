"""The fake's Socket Mode endpoint, driven by a plain WebSocket client as Slack's docs describe."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from bot.fake_slack.server import FakeSlack
from bot.fake_slack.socket_mode import NoConnection
from bot.fake_slack.socket_requests import SocketModeSender

APP_TOKEN = "xapp-1-A0MENTOR-test"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake
    assert fake.socket_mode.problems == []


def open_url(fake: FakeSlack, token: str = APP_TOKEN) -> str:
    return str(WebClient(base_url=fake.url).apps_connections_open(app_token=token)["url"])


@pytest.fixture
def ws(fake: FakeSlack) -> Iterator[ClientConnection]:
    with connect(open_url(fake), ping_interval=None, close_timeout=1) as ws:
        yield ws


def received(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=5))
    return message


def test_apps_connections_open_gives_a_ticket_url_that_says_hello_once(fake: FakeSlack) -> None:
    url = open_url(fake)
    assert url.startswith("ws://127.0.0.1:") and "/link/?ticket=" in url
    with connect(url, ping_interval=None) as ws:
        hello = received(ws)
        assert hello["type"] == "hello" and hello["num_connections"] == 1
        assert hello["debug_info"]["approximate_connection_time"] > 0
        assert hello["connection_info"] == {"app_id": fake.app_id}
    with pytest.raises(InvalidStatus):  # tickets are single use
        connect(url, ping_interval=None).close()
    assert fake.socket_mode.links[0].hello_at is not None


@pytest.mark.parametrize(
    ("token", "error"),
    [("xoxb-a-bot-token", "not_allowed_token_type"), ("xapp-revoked", "invalid_auth")],
)
def test_apps_connections_open_refuses_wrong_tokens_like_slack(
    fake: FakeSlack, token: str, error: str
) -> None:
    fake.socket_mode.refuse("xapp-revoked")
    with pytest.raises(SlackApiError) as refused:
        open_url(fake, token)
    assert refused.value.response["error"] == error


def test_envelopes_of_each_type_carry_slacks_fields_and_acks_are_recorded(
    fake: FakeSlack, ws: ClientConnection
) -> None:
    received(ws)
    sm = fake.socket_mode
    sent = {
        "slash_commands": sm.send("slash_commands", {"command": "/checkin"}),
        "interactive": sm.send("interactive", {"type": "view_submission"}),
        "events_api": sm.send(
            "events_api", {"type": "event_callback"}, retry_attempt=1, retry_reason="timeout"
        ),
    }
    for kind, envelope_id in sent.items():
        envelope = received(ws)
        assert (envelope["type"], envelope["envelope_id"]) == (kind, envelope_id)
        assert envelope["accepts_response_payload"] is (kind != "events_api")
        ws.send(json.dumps({"envelope_id": envelope_id, "payload": {"text": kind}}))
    assert envelope["retry_attempt"] == 1 and envelope["retry_reason"] == "timeout"
    acks = [sm.wait_for_ack(envelope_id) for envelope_id in sent.values()]
    assert [ack.payload for ack in acks] == [{"text": kind} for kind in sent]
    assert all(sm.envelope(ack.envelope_id).sent_at <= ack.at for ack in acks)


def test_an_ack_of_an_unknown_envelope_is_a_problem() -> None:
    with FakeSlack() as fake, connect(open_url(fake), ping_interval=None) as ws:
        received(ws)
        ws.send(json.dumps({"envelope_id": "never-sent"}))
        fake.socket_mode.wait_for(lambda: bool(fake.socket_mode.problems), what="a problem")
        assert "never-sent" in fake.socket_mode.problems[0]


@pytest.mark.parametrize("reason", ["refresh_requested", "warning"])
def test_disconnect_is_announced_then_closed_with_a_close_frame(
    fake: FakeSlack, ws: ClientConnection, reason: str
) -> None:
    received(ws)
    fake.socket_mode.disconnect(reason, close_after=0.1)  # type: ignore[arg-type]
    assert received(ws) == {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake-1"}}
    with pytest.raises(ConnectionClosedOK):
        ws.recv(timeout=5)
    assert fake.socket_mode.wait_closed(1).fault == reason


def test_with_socket_mode_off_every_link_gets_link_disabled_instead_of_hello(fake: FakeSlack) -> None:
    fake.socket_mode.enabled = False
    with connect(open_url(fake), ping_interval=None) as ws:
        assert received(ws)["reason"] == "link_disabled"
        with pytest.raises(ConnectionClosedOK):
            ws.recv(timeout=5)
    with pytest.raises(NoConnection):
        fake.socket_mode.send("slash_commands", {})


@pytest.mark.parametrize("kind", ["fin", "rst"])
def test_fin_and_rst_end_the_link_without_a_close_frame(
    fake: FakeSlack, ws: ClientConnection, kind: str
) -> None:
    received(ws)
    fake.socket_mode.fault(kind)  # type: ignore[arg-type]
    with pytest.raises(ConnectionClosedError) as closed:
        ws.recv(timeout=5)
    assert closed.value.rcvd is None
    assert fake.socket_mode.wait_closed(1).fault == kind


def test_a_close_fault_sends_a_bare_close_frame(fake: FakeSlack, ws: ClientConnection) -> None:
    received(ws)
    fake.socket_mode.fault("close")
    with pytest.raises(ConnectionClosedOK) as closed:
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


def test_a_silent_link_answers_no_ping_and_delivers_nothing(fake: FakeSlack, ws: ClientConnection) -> None:
    received(ws)
    assert ws.ping().wait(2)
    fake.socket_mode.fault("silence")
    assert not ws.ping().wait(0.5)
    with pytest.raises(NoConnection):
        fake.socket_mode.send("slash_commands", {}, link=1)
    assert fake.socket_mode.link(1).status == "silent"


def test_the_socket_mode_sender_turns_http_requests_into_envelopes(
    fake: FakeSlack, ws: ClientConnection
) -> None:
    received(ws)
    sender = SocketModeSender(fake, timeout=5)
    replies: list[Any] = []
    thread = threading.Thread(
        target=lambda: replies.append(sender.command("/mentorship", "help", user_id="U0COORD1"))
    )
    thread.start()
    envelope = received(ws)
    assert envelope["type"] == "slash_commands"
    assert envelope["payload"]["command"] == "/mentorship" and envelope["payload"]["text"] == "help"
    ws.send(json.dumps({"envelope_id": envelope["envelope_id"], "payload": {"text": "ok"}}))
    thread.join(5)
    assert replies[0].status == 200 and replies[0].json() == {"text": "ok"}
