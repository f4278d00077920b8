"""Claims are fenced: a send happens only while a compare-and-set proves the claim is still the sender's.

Two "processes" here are two Deps with their own engine and WebClient on one database, as in
test_digest_race; simulated time (tests.support.simulated_time) stands in for Retry-After waits.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from bot.app.bootstrap import bootstrap
from bot.checkins.home import run_due
from bot.checkins.tick import LEASE
from bot.fake_slack.models import FakeUser
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig
from bot.kernel.settings import Settings
from tests.support.checkins import at, checkins, prompt_posts, prompts_to
from tests.support.factories import make_pair
from tests.support.simulated_time import FastClock, on_clock

START = at(2026, 11, 26, 0, 30)  # profiles read on the day: no users.info before the prompts
DUE = at(2026, 11, 26, 10, 30)  # Thu 16:00 in Kolkata
SPEED = 100  # simulated seconds per real second: a 30 s Retry-After takes 0.3 s, the lease 3 s


def seed(deps: Deps, fake: FakeSlack, count: int) -> list[str]:
    mentees = [f"U0FENCE{n:03d}" for n in range(count)]
    for mentee in mentees:
        fake.add_user(FakeUser(id=mentee, name=mentee.lower(), tz="Asia/Kolkata"))
        make_pair(deps, "U0MENTOR1", mentee, started_at=START, mentee_tz="Asia/Kolkata")
    return mentees


@pytest.fixture
def second(settings: Settings, programs: ProgramsConfig, deps: Deps) -> Iterator[Deps]:
    """Another process on the same database: its own engine, connection pool and WebClient."""
    other = dataclasses.replace(bootstrap(settings, programs=programs), clock=deps.clock)
    yield other
    other.engine.dispose()


def two_workers(deps: Deps) -> Deps:
    return dataclasses.replace(deps, settings=deps.settings.model_copy(update={"send_workers": 2}))


def prompts_each(fake: FakeSlack, mentees: list[str]) -> Counter[int]:
    """How many mentees have 0, 1, 2 ... prompts in their DM (the truth, whatever Slack answered)."""
    return Counter(len(prompts_to(fake, mentee)) for mentee in mentees)


def test_two_processes_in_a_429_storm_with_30_second_retry_after_send_each_of_40_prompts_once(
    deps: Deps, second: Deps, fake_slack: FakeSlack
) -> None:
    mentees = seed(deps, fake_slack, 40)
    clock = FastClock(DUE, SPEED)
    # Two send workers: with half the calls answered 429, the fan-out takes about ten minutes.
    first, other = (on_clock(two_workers(instance), clock) for instance in (deps, second))
    fake_slack.set_error_rate("*", 429, 0.5, retry_after=30)
    with ThreadPoolExecutor(1) as pool:
        fan_out = pool.submit(run_due, first, clock())
        # The second tick starts once the first's waiting claims are older than the lease.
        fake_slack.wait_for(lambda: clock() > DUE + LEASE + timedelta(minutes=1), timeout=60, what="lease")
        overlapping = not fan_out.done()
        taken_over = run_due(other, clock())
        fan_out.result(timeout=120)
    assert overlapping, "the first fan-out had finished before the second tick: nothing overlapped"
    assert any(line.endswith(" sent") or " sent," in line for line in taken_over)  # it took claims over
    instant = clock()
    while any(row.status != "sent" for row in checkins(deps)):  # failed sends are retried, storm or not
        instant += timedelta(minutes=10)
        assert instant < DUE + timedelta(hours=6), Counter(row.status for row in checkins(deps))
        run_due(first if instant.minute % 20 else other, instant)
    assert prompts_each(fake_slack, mentees) == {1: 40}  # 0 duplicates, 0 lost
    assert all(row.ts == prompts_to(fake_slack, row.mentee_id)[0]["ts"] for row in checkins(deps))
    assert sum(call.status == 429 for call in fake_slack.calls_to("chat.postMessage")) > 10  # it stormed


def test_a_claim_taken_over_while_its_sender_waited_is_not_sent_by_the_old_holder(
    deps: Deps, second: Deps, fake_slack: FakeSlack
) -> None:
    [mentee] = seed(deps, fake_slack, 1)
    fake_slack.hold("dnd.info")  # the first process stalls between its claim and its send
    results: dict[str, list[str]] = {}

    def tick(name: str, instance: Deps, when: datetime) -> None:
        results[name] = run_due(instance, when)

    stalled = threading.Thread(target=tick, args=("first", deps, DUE))
    stalled.start()
    fake_slack.wait_held(1, "dnd.info", timeout=10)
    # Past the lease a second process takes the claim over (it finds nothing in the DM yet) and
    # reaches its own send while the first is still stalled.
    taker = threading.Thread(target=tick, args=("second", second, DUE + LEASE + timedelta(minutes=1)))
    taker.start()
    fake_slack.wait_held(2, "dnd.info", timeout=10)
    fake_slack.release("dnd.info")
    stalled.join(timeout=30)
    taker.join(timeout=30)
    assert results == {"first": [], "second": ["checkins img-2026: 1 sent"]}
    assert len(prompts_to(fake_slack, mentee)) == 1
    [row] = checkins(deps)
    assert row.status == "sent" and row.ts == prompts_to(fake_slack, mentee)[0]["ts"]


def test_post_then_500_on_every_prompt_still_gives_each_mentee_exactly_one_dm(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    mentees = seed(deps, fake_slack, 10)
    fake_slack.set_error_rate("chat.postMessage", 500, 1.0, after_effect=True)  # posted, then 500
    assert run_due(deps, DUE) == ["checkins img-2026: 10 sent"]  # found in the DM by its metadata
    assert prompts_each(fake_slack, mentees) == {1: 10}
    assert len(fake_slack.calls_to("chat.postMessage")) == 10  # no blind re-post
    rows = checkins(deps)
    assert {row.status for row in rows} == {"sent"}
    assert all(row.ts == prompts_to(fake_slack, row.mentee_id)[0]["ts"] for row in rows)


def test_post_then_500_when_the_dm_history_is_unreadable_is_retried_only_after_looking_again(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    [mentee] = seed(deps, fake_slack, 1)
    fake_slack.inject("chat.postMessage", 500, after_effect=True)
    fake_slack.inject("conversations.history", 500, times=3)  # the client retries reads twice
    assert run_due(deps, DUE) == ["checkins img-2026: 1 failed (will retry)"]
    assert run_due(deps, DUE + timedelta(minutes=2)) == ["checkins img-2026: 1 sent"]
    assert len(prompts_to(fake_slack, mentee)) == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_post_then_500_on_reminders_still_sends_each_mentee_one_reminder(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    mentees = seed(deps, fake_slack, 6)
    run_due(deps, DUE)
    fake_slack.set_error_rate("chat.postMessage", 500, 1.0, after_effect=True)
    assert run_due(deps, DUE + timedelta(hours=24, minutes=1)) == ["checkins img-2026: 6 reminders"]
    assert run_due(deps, DUE + timedelta(hours=25)) == []
    reminders = Counter(
        message["channel"]
        for mentee in mentees
        for message in fake_slack.messages(mentee)
        if (message.get("metadata") or {}).get("event_type") == "mentorbot_checkin_reminder"
    )
    assert reminders == {f"D{mentee}": 1 for mentee in mentees}
    assert all(row.reminder_ts for row in checkins(deps))


def test_two_processes_close_each_expired_dm_once(deps: Deps, second: Deps, fake_slack: FakeSlack) -> None:
    mentees = seed(deps, fake_slack, 12)
    run_due(deps, DUE)
    fake_slack.set_latency(0.01, "chat.update")
    expired = DUE + timedelta(hours=96)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda instance: run_due(instance, expired), [deps, second]))
    updates = Counter(call.args["ts"] for call in fake_slack.calls_to("chat.update"))
    assert sorted(updates.values()) == [1] * len(mentees)
    assert all(row.status == "expired" and row.closed_at is not None for row in checkins(deps))
    assert len(prompt_posts(fake_slack)) == len(mentees)
