"""The HTTP edge over real HTTP: big bodies refused unread, malformed ones 400 (never 500), ssl_check."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from bot.app.http_server import MAX_BODY_BYTES
from bot.fake_slack.requests import FORM, JSON, SenderResponse, SlackRequestSender
from bot.fake_slack.server import FakeSlack
from tests.support.people import SIGNING_SECRET
from tests.support.running import bot_env, free_port, running_bot, wait_ready


@pytest.fixture
def granian_url(database_url: str, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[str]:
    """`mentorbot run --http` as an operator starts it (granian, one worker)."""
    port = free_port()
    env = bot_env(database_url=database_url, slack_url=fake_slack.url)
    args = ["run", "--http", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with running_bot(args, env, tmp_path) as proc:
        wait_ready(port, proc)
        yield f"http://127.0.0.1:{port}/slack/events"


def _declare_huge_send_little(url: str, declared: int) -> tuple[int, float]:
    """Headers announcing `declared` bytes, then only 64 KiB of them: a server that reads the body
    before answering would wait for the rest (and time out here)."""
    parts = urlsplit(url)
    started = time.perf_counter()
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as conn:
        head = (
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: {FORM}\r\n"
            f"Content-Length: {declared}\r\nConnection: close\r\n\r\n"
        )
        conn.sendall(head.encode() + b"a" * 65536)
        status_line = conn.makefile("rb").readline().decode()
    return int(status_line.split()[1]), time.perf_counter() - started


@pytest.mark.parametrize("server", ["waitress", "granian"])
def test_a_64_mib_unsigned_post_is_refused_before_its_body_is_read(
    server: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("bot_url" if server == "waitress" else "granian_url")
    status, seconds = _declare_huge_send_little(url, 64 * 2**20)
    assert status == 413
    assert seconds < 2


def test_a_body_just_over_the_limit_gets_413_from_the_app_itself(slack: SlackRequestSender) -> None:
    body = urlencode({"payload": "x" * MAX_BODY_BYTES}).encode()
    response = slack.send(body, FORM)
    assert (response.status, response.json()) == (413, {"error": f"request body over {MAX_BODY_BYTES} bytes"})


def _malformed(slack: SlackRequestSender) -> dict[str, tuple[bytes, str]]:
    view_without_type = {
        "type": "view_submission",
        "team": {"id": slack.team_id, "domain": slack.team_domain},
        "user": {"id": "U0MENTEE1", "name": "amara", "team_id": slack.team_id},
        "api_app_id": slack.api_app_id,
        "token": slack.verification_token,
        "trigger_id": "1.2.abc",
        "view": {"id": "V1", "callback_id": "checkin_answer", "state": {"values": {}}},
    }
    return {
        "payload that is not JSON": (urlencode({"payload": "{not json"}).encode(), FORM),
        "body that is not UTF-8": (b"command=%2Fcheckin&text=\xff\xfe", FORM),
        "JSON event that does not parse": (b'{"type": "event_callback", ', JSON),
        "view_submission without view.type": (
            urlencode({"payload": json.dumps(view_without_type)}).encode(),
            FORM,
        ),
    }


def _send_signed(sender: SlackRequestSender, body: bytes, content_type: str) -> SenderResponse:
    """Signed as Slack signs, over raw bytes (slack_sdk's signer insists on UTF-8 bodies)."""
    timestamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256)
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}
    return sender.raw(body, {"Content-Type": content_type, **headers})


@pytest.mark.parametrize(
    "case",
    [
        "payload that is not JSON",
        "body that is not UTF-8",
        "JSON event that does not parse",
        "view_submission without view.type",
    ],
)
def test_a_signed_but_malformed_request_gets_400_and_its_body_stays_out_of_the_log(
    case: str, slack: SlackRequestSender, caplog: pytest.LogCaptureFixture
) -> None:
    body, content_type = _malformed(slack)[case]
    with caplog.at_level(logging.INFO):
        response = _send_signed(slack, body, content_type)
    assert response.status == 400
    assert response.json()["error"] in {
        "malformed request",
        "malformed request body",
        "request body is not UTF-8",
    }
    assert "U0MENTEE1" not in caplog.text and "not json" not in caplog.text


def test_the_same_malformed_request_gets_400_from_granian_too(
    granian_url: str, fake_slack: FakeSlack
) -> None:
    sender = SlackRequestSender(url=granian_url, signing_secret=SIGNING_SECRET, fake=fake_slack)
    for body, content_type in _malformed(sender).values():
        assert _send_signed(sender, body, content_type).status == 400


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_slacks_ssl_check_gets_an_empty_200(signed: bool, slack: SlackRequestSender) -> None:
    body = urlencode({"ssl_check": "1", "token": "fake-verification-token"}).encode()
    response = slack.send(body, FORM) if signed else slack.raw(body, {"Content-Type": FORM})
    assert (response.status, response.body) == (200, "")


def test_an_unsigned_command_is_still_refused_with_401(slack: SlackRequestSender) -> None:
    body = urlencode({"command": "/checkin", "text": "help", "user_id": "U0MENTEE1"}).encode()
    assert slack.raw(body, {"Content-Type": FORM}).status == 401


def test_a_non_numeric_content_length_gets_400(bot_url: str) -> None:
    parts = urlsplit(bot_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as conn:
        conn.sendall(
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: lots\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        status = int(conn.makefile("rb").readline().split()[1])
    assert status == 400
