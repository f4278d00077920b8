"""Acceptance 1: after concerns and replies go through signed HTTP with logging at DEBUG, neither the
database bytes (SQLite files, or pg_dump on PostgreSQL) nor the logs hold anything about the sender."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from tests.support.concerns import (
    COORDINATOR,
    button,
    case_key,
    enrol,
    filled,
    list_concerns,
    opened_views,
    slack_json,
    wait_until,
)
from tests.support.people import USERS

LOGGERS = ("", "slack_bolt", "slack_sdk", "mentorbot", "waitress", "urllib3", "apscheduler")
CONCERN_TEXT = "The registrar laughed at my accent during the ward round and nobody said anything."
SENDER_REPLY = "It happened again on the night shift; I did not feel able to ask questions."


def _debug_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)


class Sender:
    """One person's signed requests, with the identifying parts of each request recorded."""

    def __init__(self, slack: SlackRequestSender, fake: FakeSlack, user_id: str, channel_id: str) -> None:
        self.slack, self.fake, self.user_id, self.channel_id = slack, fake, user_id, channel_id
        self.trigger_ids: list[str] = []
        self.timestamps: list[str] = []

    def _stamp(self) -> tuple[str, str]:
        trigger, stamp = self.fake.trigger_id(), str(int(time.time()) - 3 - len(self.timestamps))
        self.trigger_ids.append(trigger)
        self.timestamps.append(stamp)
        return trigger, stamp

    def command(self, words: str) -> dict[str, Any]:
        trigger, stamp = self._stamp()
        status, body, _ = self.slack.command(
            "/concern",
            words,
            user_id=self.user_id,
            channel_id=self.channel_id,
            trigger_id=trigger,
            timestamp=stamp,
        )
        assert status == 200
        return dict(slack_json(body))

    def submit(self, view: dict[str, Any]) -> dict[str, Any]:
        trigger, stamp = self._stamp()
        status, body, _ = self.slack.view_submission(
            self.user_id, view=view, trigger_id=trigger, timestamp=stamp
        )
        assert status == 200
        return dict(slack_json(body))

    def click(self, view: dict[str, Any], action_id: str) -> None:
        trigger, stamp = self._stamp()
        status, _, _ = self.slack.block_action(
            self.user_id, action_id=action_id, value="reply", view=view, trigger_id=trigger, timestamp=stamp
        )
        assert status == 200

    def raise_concern(self, **fields: Any) -> str:
        before = len(opened_views(self.fake))
        assert self.command("") == {}
        form = wait_until(lambda: opened_views(self.fake)[before:], what="the concern form")[0]
        return case_key(self.submit(filled(form, **fields)))

    def reply(self, key: str, words: str) -> None:
        before, pushed_before = len(opened_views(self.fake)), len(opened_views(self.fake, "views.push"))
        assert self.command(f"status {key}") == {}
        status_view = wait_until(lambda: opened_views(self.fake)[before:], what="the status modal")[0]
        self.click(status_view, "concern_sender_reply")
        pushed = wait_until(
            lambda: opened_views(self.fake, "views.push")[pushed_before:], what="reply modal"
        )[0]
        typed = {"text": {"text": {"type": "plain_text_input", "value": words}}}
        assert self.submit({**pushed, "state": {"values": typed}})["response_action"] == "update"

    def identifiers(self) -> dict[str, list[str]]:
        user = next(u for u in USERS if u.id == self.user_id)
        return {
            "user id": [self.user_id],
            "user name": [user.name, user.real_name],
            "channel id": [self.channel_id],
            "trigger id": self.trigger_ids,
            "request timestamp": self.timestamps,
        }


def _coordinator_reply(slack: SlackRequestSender, fake: FakeSlack, words: str) -> None:
    listing = list_concerns(slack)
    reply = button(listing["blocks"], "concern_reply:")
    before = len(opened_views(fake))
    slack.block_action(
        COORDINATOR,
        action_id=reply["action_id"],
        value=reply["value"],
        message={"ts": "1.0", "blocks": listing["blocks"], "text": listing["text"]},
        channel_id="D0COORD",
    )
    modal = wait_until(lambda: opened_views(fake)[before:], what="the coordinator reply modal")[0]
    typed = {"text": {"text": {"type": "plain_text_input", "value": words}}}
    slack.view_submission(COORDINATOR, view={**modal, "state": {"values": typed}})


def _run_scenario(slack: SlackRequestSender, fake: FakeSlack, sender: Sender) -> None:
    key = sender.raise_concern(text=CONCERN_TEXT)
    sender.raise_concern(
        text="Unsafe handover: the night team skipped the checklist.", category="patient_safety"
    )
    sender.raise_concern(text="My mentor cancels every session.", involves=True, urgency="urgent")
    wait_until(
        lambda: len(fake.calls_to("chat.postMessage", ok_only=True)) >= 2, what="urgent and escalated posts"
    )
    _coordinator_reply(slack, fake, "Thank you for telling us. Which unit was it?")
    sender.reply(key, SENDER_REPLY)


def _database_bytes(deps: Deps, database_url: str) -> bytes:
    """Everything the database holds: the SQLite files after a checkpoint, or a full pg_dump."""
    if deps.engine.dialect.name == "sqlite":
        deps.engine.dispose()  # the last connection to close checkpoints the WAL into the file
        path = Path(make_url(database_url).database or "")
        return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")) if p.is_file())
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is not on PATH (scripts/with-postgres.sh puts it there)"
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    dump = subprocess.run([pg_dump, "--no-owner", url], capture_output=True, check=True, env=dict(os.environ))
    return dump.stdout


def _occurrences(haystack: bytes, needle: str) -> int:
    return haystack.count(needle.encode())


def _log_text(caplog: pytest.LogCaptureFixture) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        parts.append(record.exc_text or "")
    return "\n".join(parts)


def test_a_coordinator_sender_leaves_no_trace(
    deps: Deps,
    slack: SlackRequestSender,
    fake_slack: FakeSlack,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The sender is known only from programs.yml, so none of their identifiers may appear at all."""
    _debug_everywhere(caplog)
    sender = Sender(slack, fake_slack, "U0COORD2", "D0NIADM")
    key = sender.raise_concern(text=CONCERN_TEXT)
    sender.reply(key, SENDER_REPLY)
    stored = _database_bytes(deps, database_url)
    logs = _log_text(caplog)
    for what, values in sender.identifiers().items():
        for value in values:
            assert _occurrences(stored, value) == 0, f"the sender's {what} is in the database"
            assert value not in logs, f"the sender's {what} is in the logs"
    for words in (CONCERN_TEXT, SENDER_REPLY, key, key.replace("-", "")):
        assert _occurrences(stored, words) == 0 and words not in logs


def test_a_mentee_sender_adds_nothing_about_themselves(
    deps: Deps,
    slack: SlackRequestSender,
    fake_slack: FakeSlack,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A mentee is in the people and pairs tables already; raising concerns must not add a single mention."""
    enrol(deps)
    sender = Sender(slack, fake_slack, "U0MENTEE1", "D0AMARADM")
    with deps.engine.connect() as connection:  # the pair exists before the sender does anything
        assert connection.execute(text("SELECT count(*) FROM pairs")).scalar_one() == 1
    before = _database_bytes(deps, database_url)
    assert _occurrences(before, sender.user_id) > 0  # the byte scan does see ids where they are stored
    _debug_everywhere(caplog)
    _run_scenario(slack, fake_slack, sender)
    after = _database_bytes(deps, database_url)
    logs = _log_text(caplog)
    for name in ("slack_bolt.mentorbot", "slack_sdk.web.base_client", "mentorbot.concerns"):
        assert logging.getLogger(name).isEnabledFor(logging.DEBUG)  # DEBUG really was on
    for what, values in sender.identifiers().items():
        for value in values:
            assert _occurrences(after, value) == _occurrences(before, value), (
                f"the sender's {what} was stored"
            )
            assert value not in logs, f"the sender's {what} is in the logs"
    for words in (CONCERN_TEXT, SENDER_REPLY):
        assert _occurrences(after, words) == 0, "concern text is stored in plaintext"
        assert words not in logs, "concern text is in the logs"
