"""Answering a survey over signed HTTP: the button opens the modal, every item must be answered, and the
answer waits encrypted beside the claim until its period closes (tests/instruments/test_survey_release.py;
read from the raw files in tests/privacy/test_instrument_forensics.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.instruments.answers import UNANSWERED
from bot.instruments.sender import run_due
from bot.instruments.surveys import closes_at
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig
from tests.support.factories import make_pair
from tests.support.instruments import (
    MCA_AT_3_AND_12,
    MONTHLY_MINI_Z,
    answers,
    filled,
    pending_tokens,
    programs_with,
    survey_dms,
    surveys,
)
from tests.support.waiting import wait_until

MENTEE, MENTOR = "U0MENTEE1", "U0MENTOR1"
STARTED = datetime(2026, 11, 10, 14, 0, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)


@pytest.fixture
def programs(programs: ProgramsConfig) -> ProgramsConfig:
    return programs_with(programs, MONTHLY_MINI_Z, MCA_AT_3_AND_12)


def sent_survey(
    deps: Deps, clock: Clock, fake: FakeSlack, when: datetime = DECEMBER, about: str = "Burnout"
) -> dict[str, Any]:
    """Pair the mentee, tick at `when`, and return their survey DM whose text names `about`."""
    make_pair(deps, MENTOR, MENTEE, started_at=STARTED, mentee_tz="Asia/Kolkata")
    assert " sent" in " ".join(run_due(deps, when))
    clock.now = when + timedelta(hours=2)
    [dm] = [m for m in survey_dms(fake, MENTEE) if about in m["text"]]
    return dm


def open_modal(slack: SlackRequestSender, fake: FakeSlack, dm: dict[str, Any]) -> dict[str, Any]:
    [button] = [e for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["text"]["text"] == "Answer (2 min)"
    status, _, _ = slack.block_action(
        MENTEE, action_id=button["action_id"], value=button["value"], message=dm
    )
    assert status == 200
    wait_until(lambda: fake.calls_to("views.open", ok_only=True), "views.open")
    return fake.views[-1]


def submit(slack: SlackRequestSender, view: dict[str, Any], chosen: dict[str, str]) -> dict[str, Any]:
    status, body, _ = slack.view_submission(MENTEE, view=filled(view, chosen))
    assert status == 200
    reply: dict[str, Any] = json.loads(body) if body else {}
    return reply


def test_the_dm_and_every_item_say_who_sees_the_answer(
    deps: Deps, clock: Clock, fake_slack: FakeSlack, slack: SlackRequestSender
) -> None:
    dm = sent_survey(deps, clock, fake_slack)
    line = "Counted only in totals of 5 or more; nobody sees your answer."
    assert any(line in json.dumps(block) for block in dm["blocks"])
    view = open_modal(slack, fake_slack, dm)
    items = [b for b in view["blocks"] if b["type"] == "input"]
    assert len(items) == 1 and all(item["hint"]["text"] == line for item in items)


def test_an_unanswered_item_is_an_error_on_its_block_and_nothing_is_stored(
    deps: Deps, clock: Clock, fake_slack: FakeSlack, slack: SlackRequestSender
) -> None:
    view = open_modal(slack, fake_slack, sent_survey(deps, clock, fake_slack))
    reply = submit(slack, view, {})
    assert reply == {"response_action": "errors", "errors": {"instrument_item_1": UNANSWERED}}
    assert answers(deps) == [] and not surveys(deps)[0].answered


def test_a_submitted_survey_marks_the_claim_answered_and_keeps_the_score_encrypted_until_the_period_closes(
    deps: Deps, clock: Clock, fake_slack: FakeSlack, slack: SlackRequestSender
) -> None:
    view = open_modal(slack, fake_slack, sent_survey(deps, clock, fake_slack))
    assert submit(slack, view, {"instrument_item_1": "3"})["response_action"] == "update"
    assert answers(deps) == []  # nothing is released before the period closes
    [token] = pending_tokens(deps)
    assert json.loads(deps.keys.fernet.decrypt(token.encode())) == {"version": 1, "score": 3.0, "domains": {}}
    [claim] = surveys(deps)
    assert claim.answered and claim.status == "sent"
    again = submit(slack, view, {"instrument_item_1": "5"})
    assert "answered this survey already" in json.dumps(again)
    assert len(pending_tokens(deps)) == 1


def test_a_survey_answered_after_its_period_closed_is_refused_and_nothing_is_stored(
    deps: Deps, clock: Clock, fake_slack: FakeSlack, slack: SlackRequestSender
) -> None:
    view = open_modal(slack, fake_slack, sent_survey(deps, clock, fake_slack))
    clock.now = closes_at("2026-12")
    reply = submit(slack, view, {"instrument_item_1": "3"})
    assert "This survey has closed" in json.dumps(reply)
    assert pending_tokens(deps) == [] and not surveys(deps)[0].answered
