"""Failures are logged with their traceback, never with the text their exceptions carry."""

import logging

import pytest
from pydantic import BaseModel, ValidationError
from slack_sdk.errors import SlackApiError

from bot.fake_slack.server import FakeSlack
from bot.kernel.logging_setup import log_failure
from bot.kernel.settings import Settings
from bot.slack.client import build_web_client

log = logging.getLogger("mentorbot.test")
SECRET = "the charge nurse mocked my accent"


def test_a_slack_failure_is_logged_by_type_and_code_not_by_its_response(
    settings: Settings, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.inject(method="chat.postMessage", error="channel_not_found")
    client = build_web_client(settings)
    with caplog.at_level(logging.DEBUG):
        try:
            client.chat_postMessage(channel="C0NOWHERE", text=SECRET)
        except SlackApiError:
            log_failure(log, "posting failed")
    record = next(r for r in caplog.records if r.getMessage() == "posting failed")
    assert "SlackApiError (channel_not_found)" in caplog.text
    assert "chat_postMessage" in caplog.text  # the traceback frames are kept
    assert record.exc_info is not None and "The server responded with" not in caplog.text
    assert SECRET not in caplog.text


def test_a_validation_error_does_not_echo_its_input(caplog: pytest.LogCaptureFixture) -> None:
    class Form(BaseModel):
        minutes: int

    try:
        Form(minutes=SECRET)  # type: ignore[arg-type]
    except ValidationError:
        log_failure(log, "form failed")
    assert "ValidationError" in caplog.text and SECRET not in caplog.text


def test_without_an_exception_it_is_a_plain_error_line(caplog: pytest.LogCaptureFixture) -> None:
    log_failure(log, "nothing raised %s", "here")
    assert caplog.records[-1].levelno == logging.ERROR and caplog.records[-1].exc_info is None
