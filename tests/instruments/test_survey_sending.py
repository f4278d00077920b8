"""Instrument surveys go out exactly once per cadence: across restarts, two racing processes, and months."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.app.bootstrap import bootstrap
from bot.fake_slack.models import FakeUser
from bot.fake_slack.server import FakeSlack
from bot.instruments.sender import run_due
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig
from bot.kernel.settings import Settings
from tests.support.factories import make_pair
from tests.support.instruments import MCA_AT_3_AND_12, MONTHLY_MINI_Z, programs_with, survey_dms, surveys

STARTED = datetime(2026, 11, 10, 14, 0, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)  # first Thursday, 16:00 in Kolkata
JANUARY = datetime(2027, 1, 7, 10, 30, tzinfo=UTC)


@pytest.fixture
def programs(programs: ProgramsConfig) -> ProgramsConfig:
    return programs_with(programs, MONTHLY_MINI_Z, MCA_AT_3_AND_12)


def fresh(settings: Settings, programs: ProgramsConfig, deps: Deps) -> Deps:
    """A new process on the same database: its own engine, connection pool and WebClient."""
    return dataclasses.replace(bootstrap(settings, programs=programs), clock=deps.clock)


@pytest.fixture
def second(settings: Settings, programs: ProgramsConfig, deps: Deps) -> Iterator[Deps]:
    other = fresh(settings, programs, deps)
    yield other
    other.engine.dispose()


def seed(deps: Deps, fake: FakeSlack, count: int) -> list[str]:
    mentees = [f"U0SURV{n:03d}" for n in range(count)]
    for mentee in mentees:
        fake.add_user(FakeUser(id=mentee, name=mentee.lower(), tz="Asia/Kolkata"))
        make_pair(deps, "U0MENTOR1", mentee, started_at=STARTED, mentee_tz="Asia/Kolkata")
    return mentees


def mini_z_each(fake: FakeSlack, mentees: list[str]) -> Counter[int]:
    """How many mentees have 0, 1, 2 ... surveys in their DM (what Slack holds, whatever it answered)."""
    return Counter(len(survey_dms(fake, mentee)) for mentee in mentees)


def test_a_monthly_survey_is_sent_once_across_a_restart_and_again_next_month_not_twice_this_month(
    deps: Deps, settings: Settings, programs: ProgramsConfig, fake_slack: FakeSlack
) -> None:
    [mentee] = seed(deps, fake_slack, 1)
    assert run_due(deps, DECEMBER - timedelta(minutes=1)) == []
    assert run_due(deps, DECEMBER) == ["instruments img-2026: surveys 1 sent"]
    restarted = fresh(settings, programs, deps)
    try:
        for later in (timedelta(minutes=1), timedelta(hours=5), timedelta(days=6), timedelta(days=20)):
            assert run_due(restarted, DECEMBER + later) == []
        assert run_due(restarted, JANUARY) == ["instruments img-2026: surveys 1 sent"]
    finally:
        restarted.engine.dispose()
    assert [(s.period, s.status) for s in surveys(deps)] == [("2026-12", "sent"), ("2027-01", "sent")]
    dms = survey_dms(fake_slack, mentee)
    assert len(dms) == 2 and [s.ts for s in surveys(deps)] == [m["ts"] for m in dms]


def test_two_processes_ticking_at_once_send_each_mentee_one_survey(
    deps: Deps, second: Deps, fake_slack: FakeSlack
) -> None:
    mentees = seed(deps, fake_slack, 30)
    fake_slack.hold("chat.postMessage")
    results: dict[str, list[str]] = {}

    def tick(name: str, instance: Deps) -> None:
        results[name] = run_due(instance, DECEMBER)

    threads = [threading.Thread(target=tick, args=(n, d)) for n, d in (("a", deps), ("b", second))]
    for thread in threads:
        thread.start()
    fake_slack.wait_held(1, "chat.postMessage", timeout=30)
    fake_slack.release("chat.postMessage")
    for thread in threads:
        thread.join(timeout=60)
    assert mini_z_each(fake_slack, mentees) == {1: 30}
    assert Counter(s.status for s in surveys(deps)) == {"sent": 30}
    sent = [line for lines in results.values() for line in lines]
    assert sent == ["instruments img-2026: surveys 30 sent"]  # one process won every claim


def test_a_survey_posted_but_unconfirmed_is_found_in_the_dm_by_the_next_process_not_sent_again(
    deps: Deps, second: Deps, fake_slack: FakeSlack
) -> None:
    [mentee] = seed(deps, fake_slack, 1)
    fake_slack.inject("chat.postMessage", 500, after_effect=True, times=1)  # posted, then the reply lost
    fake_slack.inject("conversations.history", 500, times=3)  # and the history unreadable: unknown
    assert run_due(deps, DECEMBER) == ["instruments img-2026: surveys 1 failed"]
    assert run_due(second, DECEMBER + timedelta(minutes=10)) == ["instruments img-2026: surveys 1 sent"]
    assert len(survey_dms(fake_slack, mentee)) == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_a_pair_is_asked_to_rate_the_mentor_at_months_3_and_12_only(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    [mentee] = seed(deps, fake_slack, 1)
    instant = STARTED
    while instant < STARTED + timedelta(days=400):
        run_due(deps, instant)
        instant += timedelta(days=3)
    mca = [s for s in surveys(deps) if s.instrument_id == "mca-21"]
    assert [(s.period, s.status, s.due_at.date().isoformat()) for s in mca] == [
        (f"pair-{mca[0].pair_id}-m3", "sent", "2027-02-10"),
        (f"pair-{mca[0].pair_id}-m12", "sent", "2027-11-10"),
    ]
    monthly = [s.period for s in surveys(deps) if s.instrument_id == "mini-z-burnout"]
    assert len(monthly) == len(set(monthly)) == 13  # December 2026 to December 2027, once each
    assert len(survey_dms(fake_slack, mentee)) == 15
