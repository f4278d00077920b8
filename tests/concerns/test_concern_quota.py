"""At most N concerns per sender per day, counted in process memory: nothing derived from the sender
reaches the database, and the next day starts at zero."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, select

from bot.concerns.quota import remaining_today, take_one
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.limits import DailyLimiter
from storage.models import Concern
from tests.support.concerns import MENTEE, enrol, filled, open_concern_form, slack_json, submit_concern


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

    clock.now += timedelta(days=1)
    assert submit_concern(slack, fake_slack, text="A new day.")["response_action"] == "update"
    with deps.sessions.begin() as session:
        assert len(session.scalars(select(Concern.id)).all()) == 6


def test_no_table_holds_anything_about_who_raised_how_many(deps: Deps) -> None:
    tables = set(inspect(deps.engine).get_table_names())
    assert not {"concern_quota", "concern_day_keys"} & tables
    assert not [t for t in tables if "quota" in t]


def test_a_submission_over_the_limit_keeps_the_text_in_the_form(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    for _ in range(4):
        assert take_one(deps, user_id=MENTEE, now=deps.clock())
    form = open_concern_form(slack, fake_slack)
    assert take_one(deps, user_id=MENTEE, now=deps.clock())  # the fifth, from a form opened in another window
    _, body, _ = slack.view_submission(MENTEE, view=filled(form, text="Please keep this text."))
    reply = slack_json(body)
    assert reply["response_action"] == "errors" and "send it tomorrow" in reply["errors"]["text"]


def test_each_sender_has_their_own_count(deps: Deps) -> None:
    now = deps.clock()
    for _ in range(5):
        take_one(deps, user_id="U0MENTEE1", now=now)
    assert not take_one(deps, user_id="U0MENTEE1", now=now)
    assert take_one(deps, user_id="U0MENTEE2", now=now)
    assert remaining_today(deps, user_id="U0MENTEE2", now=now) == 4


def test_concurrent_submissions_never_exceed_the_limit(deps: Deps) -> None:
    now, results = deps.clock(), []

    def submit() -> None:
        results.append(take_one(deps, user_id=MENTEE, now=now))

    threads = [threading.Thread(target=submit) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True] * 5


def test_the_limit_is_per_process_and_restarts_with_it(deps: Deps) -> None:
    now = deps.clock()
    for _ in range(5):
        take_one(deps, user_id=MENTEE, now=now)
    assert remaining_today(deps, user_id=MENTEE, now=now) == 0
    restarted = dataclasses.replace(deps, limiter=DailyLimiter())  # what a restart or another worker sees
    assert remaining_today(restarted, user_id=MENTEE, now=now) == 5


def test_the_limiter_keeps_no_user_id_in_memory() -> None:
    limiter = DailyLimiter()
    limiter.take("concern", "U0MENTEE1", now=datetime(2026, 12, 2, 9, tzinfo=UTC), limit=5)
    assert "U0MENTEE1" not in repr(vars(limiter)) and b"U0MENTEE1" not in b"".join(limiter._counts)
