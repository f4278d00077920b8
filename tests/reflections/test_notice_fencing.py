"""A session's confirmation DM goes out once even when Slack answers 500 after posting it, and a claim
whose sender died is recovered from the DM's history rather than sent again."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import select, update

from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from bot.reflections.notices import LEASE, notice_metadata, run_due, send_notice
from storage.models import MentoringSession, Pair
from storage.repositories.reflections import create_session
from tests.support.factories import make_pair

MENTOR, MENTEE = "U0MENTOR1", "U0MENTEE1"


def pending_session(deps: Deps) -> int:
    pair_id = make_pair(deps, MENTOR, MENTEE)
    with deps.sessions.begin() as session:
        pair = session.get(Pair, pair_id)
        assert pair is not None
        row = create_session(
            session,
            pair=pair,
            session_date=date(2026, 11, 20),
            duration_minutes=45,
            format="other",
            logged_by=MENTOR,
            now=deps.clock(),
        )
        return row.id


def notices_to(fake: FakeSlack, user_id: str) -> list[dict[str, object]]:
    return [
        m
        for m in fake.messages(user_id)
        if (m.get("metadata") or {}).get("event_type") == "mentorbot_session_notice"
    ]


def stored(deps: Deps, session_id: int) -> MentoringSession:
    with deps.sessions.begin() as session:
        row = session.scalars(select(MentoringSession).where(MentoringSession.id == session_id)).one()
        session.expunge(row)
        return row


def claimed_by_a_dead_sender(deps: Deps, session_id: int) -> None:
    with deps.sessions.begin() as session:
        session.execute(
            update(MentoringSession)
            .where(MentoringSession.id == session_id)
            .values(notice_claimed_at=deps.clock(), notice_claimed_by="dead-host:1:x")
        )


def test_post_then_500_on_the_confirmation_dm_sends_it_once(deps: Deps, fake_slack: FakeSlack) -> None:
    session_id = pending_session(deps)
    fake_slack.inject("chat.postMessage", 500, after_effect=True)
    assert send_notice(deps, session_id=session_id, now=deps.clock()) is True
    [dm] = notices_to(fake_slack, MENTEE)
    row = stored(deps, session_id)
    assert (row.notice_channel, row.notice_ts) == (f"D{MENTEE}", dm["ts"])
    assert run_due(deps, deps.clock() + timedelta(hours=1)) == []
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_a_dead_senders_dm_that_reached_slack_is_recorded_not_sent_again(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    session_id = pending_session(deps)
    claimed_by_a_dead_sender(deps, session_id)
    landed = deps.client.chat_postMessage(
        channel=MENTEE, text="the DM it sent", metadata=notice_metadata(session_id)
    )
    assert run_due(deps, deps.clock() + LEASE - timedelta(seconds=1)) == []  # within its lease: still theirs
    assert run_due(deps, deps.clock() + LEASE + timedelta(seconds=1)) == [
        "reflections: sent 1 session confirmation DMs"
    ]
    assert stored(deps, session_id).notice_ts == landed["ts"]
    assert len(notices_to(fake_slack, MENTEE)) == 1


def test_a_dead_senders_dm_that_never_left_is_sent_after_the_lease(deps: Deps, fake_slack: FakeSlack) -> None:
    session_id = pending_session(deps)
    claimed_by_a_dead_sender(deps, session_id)
    assert run_due(deps, deps.clock() + LEASE + timedelta(seconds=1)) == [
        "reflections: sent 1 session confirmation DMs"
    ]
    [dm] = notices_to(fake_slack, MENTEE)
    assert stored(deps, session_id).notice_ts == dm["ts"]


def test_a_500_with_an_unreadable_dm_keeps_the_claim_until_the_history_can_tell(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    session_id = pending_session(deps)
    fake_slack.inject("chat.postMessage", 500, after_effect=True)
    fake_slack.inject("conversations.history", 500, times=3)  # the client retries reads twice
    with pytest.raises(SlackApiError):
        send_notice(deps, session_id=session_id, now=deps.clock())
    assert run_due(deps, deps.clock() + timedelta(minutes=1)) == []  # unknown: nobody sends it again yet
    assert run_due(deps, deps.clock() + LEASE + timedelta(minutes=1)) == [
        "reflections: sent 1 session confirmation DMs"
    ]
    assert len(notices_to(fake_slack, MENTEE)) == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
