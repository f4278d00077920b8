"""The confirmation DM goes out once: claimed before sending, released when Slack refuses, caught up later."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import select

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from bot.reflections.notices import run_due, send_notice
from storage.models import MentoringSession, Pair
from storage.repositories.reflections import create_session
from tests.reflections.test_reflect_flows import MENTEE, MENTOR, SESSION, open_modal, submit, wait_until
from tests.support.factories import make_pair


def pending_session(deps: Deps) -> int:
    pair_id = make_pair(deps, MENTOR, MENTEE)
    with deps.sessions.begin() as session:
        pair = session.get(Pair, pair_id)
        assert pair is not None
        row = create_session(
            session,
            pair=pair,
            session_date=date(2026, 11, 20),
            duration_minutes=30,
            format="other",
            logged_by=MENTOR,
            now=deps.clock(),
        )
        return row.id


def test_racing_senders_send_one_dm(deps: Deps, fake_slack: FakeSlack) -> None:
    session_id = pending_session(deps)
    results: list[bool] = []
    start = threading.Barrier(4)

    def send() -> None:
        start.wait()
        results.append(send_notice(deps, session_id=session_id, now=deps.clock()))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert len(fake_slack.messages(MENTEE)) == 1
    assert run_due(deps, deps.clock()) == []


def test_a_refused_dm_is_released_and_caught_up_by_the_tick(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    make_pair(deps, MENTOR, MENTEE)
    view = open_modal(slack, fake_slack, MENTOR)
    fake_slack.inject("chat.postMessage", error="channel_not_found")
    assert submit(slack, MENTOR, view, answers=SESSION)["response_action"] == "update"
    wait_until(lambda: fake_slack.calls_to("chat.postMessage"), "the failed send")

    def released() -> bool:
        with deps.sessions.begin() as session:
            row = session.scalars(select(MentoringSession)).one()
            return row.notice_claimed_at is None and row.notice_ts is None

    wait_until(released, "the claim released")
    assert fake_slack.messages(MENTEE) == []
    assert run_due(deps, deps.clock()) == ["reflections: sent 1 session confirmation DMs"]
    assert run_due(deps, deps.clock()) == []
    assert len(fake_slack.messages(MENTEE)) == 1
