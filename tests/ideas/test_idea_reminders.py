"""The reminder when a planned test's date has passed: claimed in the database, sent exactly once —
across ticks, restarts, a second process, a sender that died, and a send that failed ambiguously."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app.bootstrap import bootstrap
from bot.app.tick import tick
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.ideas.notices import LEASE, NOTICE_EVENT, notice_metadata, queue_nudges
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig
from bot.kernel.settings import Settings
from storage.models import IdeaNotice
from storage.repositories.ideas import claim_notice
from tests.support.factories import make_pair
from tests.support.ideas import DO, MENTEE, MENTOR, TODAY, home, plan, press, record_idea, submit, take_step

TEST_DAY = TODAY + timedelta(days=1)  # Tue 24 Nov
# The morning after the test day, in the mentee's timezone (Asia/Kolkata, UTC+5:30): 09:00 on 25 Nov.
DUE = datetime(2026, 11, 25, 3, 30, tzinfo=UTC)


@pytest.fixture
def planned(slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps) -> int:
    """The mentee's idea with a test planned for tomorrow; returns the idea id."""
    make_pair(deps, MENTOR, MENTEE)
    idea_id = record_idea(slack, fake_slack, deps)
    take_step(slack, fake_slack, idea_id, "Plan a test", plan(TEST_DAY))
    return idea_id


@pytest.fixture
def restarted(settings: Settings, programs: ProgramsConfig, clock: Clock) -> Iterator[Deps]:
    """A second process on the same database, as after a restart (its own engine, tokens and claims)."""
    again = dataclasses.replace(bootstrap(settings, programs=programs), clock=clock)
    yield again
    again.engine.dispose()


def reminders(fake: FakeSlack) -> list[dict[str, object]]:
    return [m for m in fake.messages(MENTEE) if (m.get("metadata") or {}).get("event_type") == NOTICE_EVENT]


def test_the_reminder_goes_out_once_the_morning_after_the_test_date_and_never_again_after_a_restart(
    fake_slack: FakeSlack, deps: Deps, restarted: Deps, clock: Clock, planned: int
) -> None:
    assert not [line for line in tick(deps, DUE - timedelta(minutes=1)) if line.startswith("ideas")]
    assert reminders(fake_slack) == []

    clock.now = DUE + timedelta(minutes=1)
    lines = tick(deps, clock.now)
    assert {"ideas: 1 test date passed, reminder queued", "ideas: sent 1 DM"} <= set(lines)
    (reminder,) = reminders(fake_slack)
    assert reminder["text"] == "The test date you planned for A five-minute huddle before handover has passed"
    assert "*Tue 24 Nov*" in str(reminder["blocks"])

    for later, process in (
        (timedelta(minutes=2), restarted),
        (LEASE * 3, restarted),
        (timedelta(days=2), deps),
    ):
        clock.now = DUE + later
        assert not [line for line in tick(process, clock.now) if line.startswith("ideas")]
    assert len(reminders(fake_slack)) == 1


def test_the_reminder_button_opens_the_do_step_and_recording_it_ends_the_reminders(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, clock: Clock, planned: int
) -> None:
    clock.now = DUE
    tick(deps, clock.now)
    (reminder,) = reminders(fake_slack)
    modal = press(slack, fake_slack, MENTEE, reminder, "Record what happened")
    assert modal is not None and modal["title"]["text"] == "What happened"
    assert submit(slack, MENTEE, modal, DO)["response_action"] == "update"
    with deps.read_sessions.begin() as session:
        assert session.scalars(select(IdeaNotice.status).where(IdeaNotice.kind == "nudge")).one() == "sent"


def test_no_reminder_when_what_happened_was_recorded_before_the_date_passed(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, clock: Clock, planned: int
) -> None:
    take_step(slack, fake_slack, planned, "Record what happened", DO)
    clock.now = DUE + timedelta(days=3)
    tick(deps, clock.now)
    assert reminders(fake_slack) == []


def test_a_reminder_queued_but_not_sent_when_the_test_is_recorded_is_dropped(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, clock: Clock, planned: int
) -> None:
    assert queue_nudges(deps, DUE) == 1
    assert queue_nudges(deps, DUE) == 0  # its unique key: a second tick or process adds nothing
    take_step(slack, fake_slack, planned, "Record what happened", DO)
    tick(deps, DUE + timedelta(minutes=1))
    assert reminders(fake_slack) == []
    with deps.read_sessions.begin() as session:
        assert session.scalars(select(IdeaNotice.status).where(IdeaNotice.kind == "nudge")).one() == "dropped"


def _claimed_by_a_process_that_died(deps: Deps, at: datetime) -> int:
    """Queue the reminder and claim it as a process would just before it was killed."""
    queue_nudges(deps, at)
    with deps.sessions.begin() as session:
        notice_id = session.scalars(select(IdeaNotice.id).where(IdeaNotice.kind == "nudge")).one()
        assert (
            claim_notice(session, notice_id=notice_id, token="host:1:dead", now=at, stale_before=at) is False
        )
    return notice_id


def test_a_claim_whose_sender_died_after_posting_is_recovered_from_the_dm_without_a_second_send(
    fake_slack: FakeSlack, deps: Deps, restarted: Deps, clock: Clock, planned: int
) -> None:
    notice_id = _claimed_by_a_process_that_died(deps, DUE)
    # The dead process's DM reached Slack before it died; its ts was never recorded.
    deps.client.chat_postMessage(channel=MENTEE, text="reminder", metadata=notice_metadata(notice_id))
    clock.now = DUE + LEASE / 2
    assert not [line for line in tick(restarted, clock.now) if line.startswith("ideas: sent")]  # still leased
    clock.now = DUE + LEASE + timedelta(seconds=1)
    assert "ideas: sent 1 DM" in tick(restarted, clock.now)
    assert len(reminders(fake_slack)) == 1
    with deps.read_sessions.begin() as session:
        notice = session.get(IdeaNotice, notice_id)
        assert notice is not None and (notice.status, notice.ts) == ("sent", reminders(fake_slack)[0]["ts"])


def test_a_claim_whose_sender_died_before_posting_is_sent_once_after_the_lease(
    fake_slack: FakeSlack, deps: Deps, restarted: Deps, clock: Clock, planned: int
) -> None:
    _claimed_by_a_process_that_died(deps, DUE)
    clock.now = DUE + LEASE + timedelta(seconds=1)
    tick(restarted, clock.now)
    tick(deps, clock.now + timedelta(minutes=1))
    assert len(reminders(fake_slack)) == 1


def test_a_send_that_failed_after_slack_posted_is_found_and_not_repeated(
    fake_slack: FakeSlack, deps: Deps, clock: Clock, planned: int
) -> None:
    fake_slack.inject("chat.postMessage", 500, after_effect=True, channel=MENTEE)
    clock.now = DUE
    tick(deps, clock.now)
    clock.now = DUE + LEASE * 2
    tick(deps, clock.now)
    assert len(reminders(fake_slack)) == 1


def test_a_refused_reminder_is_retried_by_the_next_tick_and_sent_once(
    fake_slack: FakeSlack, deps: Deps, clock: Clock, planned: int
) -> None:
    fake_slack.inject("chat.postMessage", error="ratelimited", channel=MENTEE)
    clock.now = DUE
    assert "ideas: 1 DM not sent (will retry)" in tick(deps, clock.now)
    assert reminders(fake_slack) == []
    clock.now = DUE + timedelta(minutes=1)
    assert "ideas: sent 1 DM" in tick(deps, clock.now)
    tick(deps, clock.now + timedelta(minutes=1))
    assert len(reminders(fake_slack)) == 1


def test_the_mentee_home_still_offers_the_do_step_after_the_reminder(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, clock: Clock, planned: int
) -> None:
    clock.now = DUE
    tick(deps, clock.now)
    assert "Record what happened" in str(home(slack, fake_slack, MENTEE)["blocks"])
