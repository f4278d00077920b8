"""Acceptance 5: at most N concerns per sender per day; the next day starts at zero and the previous
day's keyed hashes (and the key that made them) are gone from the database."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.concerns import service as concerns
from bot.concerns.quota import remaining_today, take_one
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from storage.models import Concern, ConcernDayKey, ConcernQuota
from tests.support.concerns import MENTEE, enrol, filled, open_concern_form, slack_json, submit_concern
from tests.support.people import BACKEND


def _quota_rows(deps: Deps) -> tuple[list[object], list[object]]:
    with deps.sessions.begin() as session:
        days = list(session.scalars(select(ConcernDayKey.day)))
        counted = [(q.day, q.count) for q in session.scalars(select(ConcernQuota))]
    return days, counted


def test_the_sixth_concern_of_the_day_is_refused_kindly_and_tomorrow_starts_afresh(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack, clock: Clock
) -> None:
    enrol(deps)
    assert deps.settings.concerns_per_day == 5
    for n in range(5):
        assert submit_concern(slack, fake_slack, text=f"Concern number {n}.")["response_action"] == "update"

    status, body, _ = slack.command("/concern", "", user_id=MENTEE)  # the form does not even open
    assert status == 200 and "already raised 5 concerns today" in slack_json(body)["text"]
    assert "Thank you for speaking up" in slack_json(body)["text"]

    today = clock.now.date()
    assert _quota_rows(deps) == ([today], [(today, 5)])

    clock.now += timedelta(days=1)
    assert submit_concern(slack, fake_slack, text="A new day.")["response_action"] == "update"
    tomorrow = clock.now.date()
    assert _quota_rows(deps) == ([tomorrow], [(tomorrow, 1)])
    with deps.sessions.begin() as session:
        assert len(session.scalars(select(Concern.id)).all()) == 6


def test_a_submission_over_the_limit_keeps_the_text_in_the_form(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    with deps.sessions.begin() as session:
        for _ in range(4):
            assert take_one(session, keys=deps.keys, user_id=MENTEE, now=deps.clock(), limit=5)
    form = open_concern_form(slack, fake_slack)
    with deps.sessions.begin() as session:  # the fifth, from a form opened in another window
        assert take_one(session, keys=deps.keys, user_id=MENTEE, now=deps.clock(), limit=5)
    _, body, _ = slack.view_submission(MENTEE, view=filled(form, text="Please keep this text."))
    reply = slack_json(body)
    assert reply["response_action"] == "errors" and "send it tomorrow" in reply["errors"]["text"]


def test_each_sender_has_their_own_count(deps: Deps) -> None:
    now = deps.clock()
    with deps.sessions.begin() as session:
        for _ in range(5):
            take_one(session, keys=deps.keys, user_id="U0MENTEE1", now=now, limit=5)
        assert not take_one(session, keys=deps.keys, user_id="U0MENTEE1", now=now, limit=5)
        assert take_one(session, keys=deps.keys, user_id="U0MENTEE2", now=now, limit=5)
        assert remaining_today(session, keys=deps.keys, user_id="U0MENTEE2", now=now, limit=5) == 4


def test_tick_discards_earlier_days_even_without_a_new_submission(deps: Deps, clock: Clock) -> None:
    with deps.sessions.begin() as session:
        take_one(session, keys=deps.keys, user_id=MENTEE, now=clock.now, limit=5)
    assert concerns.run_due(deps, clock.now) == []
    assert concerns.run_due(deps, clock.now + timedelta(days=1)) == [
        "concerns: discarded the quota keys of 1 earlier day(s)"
    ]
    assert _quota_rows(deps) == ([], [])


def test_concurrent_submissions_never_exceed_the_limit(deps: Deps) -> None:
    now, results = deps.clock(), []

    def submit() -> None:
        with deps.sessions.begin() as session:
            results.append(take_one(session, keys=deps.keys, user_id=MENTEE, now=now, limit=5))

    threads = [threading.Thread(target=submit) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True] * 5
    assert _quota_rows(deps)[1] == [(now.date(), 5)]


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite file bytes; PostgreSQL reclaims dead rows by VACUUM")
def test_the_discarded_day_key_is_not_left_in_the_sqlite_file(deps: Deps, clock: Clock) -> None:
    with deps.sessions.begin() as session:
        take_one(session, keys=deps.keys, user_id=MENTEE, now=clock.now, limit=5)
        key = session.scalars(select(ConcernDayKey.key)).one()
    concerns.run_due(deps, clock.now + timedelta(days=1))
    deps.engine.dispose()
    path = deps.settings.database_url.removeprefix("sqlite:///")
    assert key.encode() not in open(path, "rb").read()
