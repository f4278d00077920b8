import json
import logging
import time
import urllib.request

import pytest

from bot.fake_slack.requests import SlackRequestSender


def _get(url: str) -> tuple[int, dict[str, object]]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, json.loads(response.read())


def test_healthz_says_the_process_serves_and_readyz_that_the_database_answers(bot_url: str) -> None:
    assert _get(bot_url.replace("/slack/events", "/healthz")) == (200, {"ok": True})
    assert _get(bot_url.replace("/slack/events", "/readyz")) == (200, {"ok": True})


def test_signed_help_gets_the_help_text(slack: SlackRequestSender) -> None:
    status, body, _ = slack.command("/mentorship", "help", user_id="U0COORD1", user_name="cora")
    assert status == 200
    reply = json.loads(body)
    assert reply["response_type"] == "ephemeral"
    assert "/mentorship pair" in reply["text"]


def test_help_lists_only_what_the_caller_may_do(slack: SlackRequestSender) -> None:
    _, body, _ = slack.command("/mentorship", "help", user_id="U0OUTSIDE", user_name="olivia")
    text = json.loads(body)["text"]
    assert "not enrolled" in text
    assert "/mentorship pair" not in text


def test_unknown_subcommand_says_what_to_type(slack: SlackRequestSender) -> None:
    _, body, _ = slack.command("/mentorship", "frobnicate", user_id="U0COORD1", user_name="cora")
    assert "Type `/mentorship help`" in json.loads(body)["text"]


def _command_body() -> bytes:
    return b"command=%2Fmentorship&text=help&user_id=U0COORD1&team_id=T0MENTOR&channel_id=D1"


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        pytest.param(None, "v0=" + "0" * 64, id="forged-signature"),
        pytest.param(str(int(time.time()) - 600), None, id="stale-timestamp"),
        pytest.param("", None, id="empty-timestamp"),
        pytest.param("yesterday", None, id="non-numeric-timestamp"),
    ],
)
def test_bad_signatures_get_401_without_a_traceback(
    slack: SlackRequestSender, caplog: pytest.LogCaptureFixture, timestamp: str | None, signature: str | None
) -> None:
    from slack_sdk.signature import SignatureVerifier

    body = _command_body()
    ts = str(int(time.time())) if timestamp is None else timestamp
    sig = signature or SignatureVerifier("test-signing-secret").generate_signature(timestamp=ts, body=body)
    caplog.set_level(logging.DEBUG, logger="slack_bolt")
    caplog.set_level(logging.DEBUG, logger="slack_sdk")
    with caplog.at_level(logging.DEBUG):
        status, _, _ = slack.raw(
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": sig,
            },
        )
    assert status == 401
    assert "Traceback" not in caplog.text
    assert "U0COORD1" not in caplog.text, "a request body reached the log"
    assert not [r for r in caplog.records if r.exc_info]
