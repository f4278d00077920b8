"""A digest is never abandoned silently: retried with backoff through an outage, posted once after it,
the coordinators told once when it runs late, and one program's failure never holds another's back."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.digests import posting as digests
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig, load_programs
from storage.models.digests import DigestPost
from tests.support.digests import DUE, PROGRAM, WEEK
from tests.support.people import PROGRAMS_FILE
from tests.support.simulated_time import SteppedClock, on_clock

CHANNEL = "C0DIGEST"
COORDINATOR = "U0COORD1"
NURSING_CHANNEL = "C0NURSEDIGEST"
NURSING_DUE = datetime(2026, 11, 23, 15, 0, tzinfo=DUE.tzinfo)  # Mon 09:00 in Chicago


def only_img() -> ProgramsConfig:
    return ProgramsConfig(programs=[p for p in load_programs(PROGRAMS_FILE).programs if p.id == PROGRAM])


def minutes(start: datetime, end: datetime, step: timedelta = timedelta(minutes=1)) -> Iterator[datetime]:
    instant = start
    while instant < end:
        yield instant
        instant += step


def tick(bot: Deps, fake: FakeSlack, clock: SteppedClock, instant: datetime) -> list[str]:
    """One scheduled run at `instant`, with Slack's clock (message timestamps) at the same instant."""
    clock.now = fake.now = instant
    return digests.run_due(bot, instant)


def digest_row(deps: Deps, program_id: str = PROGRAM) -> DigestPost:
    with deps.sessions.begin() as session:
        return session.scalars(select(DigestPost).where(DigestPost.program_id == program_id)).one()


def posts_to(fake: FakeSlack, channel: str) -> list[int]:
    return [call.status for call in fake.calls_to("chat.postMessage") if call.args.get("channel") == channel]


@pytest.fixture
def bot(deps: Deps, fake_slack: FakeSlack) -> tuple[Deps, SteppedClock]:
    """The bot on a clock that each tick sets, whose WebClient's waits cost no real time."""
    for channel in (CHANNEL, NURSING_CHANNEL):
        fake_slack.add_channel(channel)
    clock = SteppedClock(DUE)
    return on_clock(deps, clock), clock


@pytest.mark.parametrize("programs", [only_img()])
def test_a_two_hour_5xx_outage_at_digest_time_is_posted_once_when_slack_recovers(
    bot: tuple[Deps, SteppedClock], fake_slack: FakeSlack
) -> None:
    deps, clock = bot
    fake_slack.set_error_rate("*", 500, 1.0)
    during = [
        line for now in minutes(DUE, DUE + timedelta(hours=2)) for line in tick(deps, fake_slack, clock, now)
    ]
    assert fake_slack.messages(CHANNEL) == []
    assert 5 <= len(during) <= 15  # backoff: a try after 1, 2, 4, 8, then every 15 minutes, not 120
    assert posts_to(fake_slack, CHANNEL) == [500]  # after that it looks before posting: never blind
    fake_slack.set_error_rate("*", 500, 0)
    after = [
        line
        for now in minutes(DUE + timedelta(hours=2), DUE + timedelta(hours=3))
        for line in tick(deps, fake_slack, clock, now)
    ]
    assert [line.split(":")[1] for line in after] == [f" posted to {CHANNEL} late; chart uploaded"]
    [message] = fake_slack.messages(CHANNEL)
    assert "Slack failed the earlier attempts (http_500)" in json.dumps(message["blocks"])
    row = digest_row(deps)
    assert (row.status, row.ts, row.posted_at) == ("posted", message["ts"], DUE + timedelta(hours=2))
    assert fake_slack.messages(COORDINATOR) == []  # it went out as the bound came: nobody told it was late


@pytest.mark.parametrize("programs", [only_img()])
def test_still_failing_after_two_hours_the_operator_gets_one_line_and_the_coordinators_one_dm(
    bot: tuple[Deps, SteppedClock], fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    deps, clock = bot
    for method in ("chat.postMessage", "conversations.history"):
        fake_slack.set_error_rate(method, 500, 1.0, channel=CHANNEL)  # DMs still work
    with caplog.at_level(logging.INFO, logger="mentorbot.digests"):
        for now in minutes(DUE, DUE + timedelta(hours=3)):
            tick(deps, fake_slack, clock, now)
        for method in ("chat.postMessage", "conversations.history"):
            fake_slack.set_error_rate(method, 500, 0, channel=CHANNEL)
        for now in minutes(DUE + timedelta(hours=3), DUE + timedelta(hours=4)):
            tick(deps, fake_slack, clock, now)
    told = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert told == [
        f"digest for {PROGRAM} week of {WEEK} still not posted after 2:00:00 (history: http_500); "
        "telling the program's coordinators"
    ]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2  # the first failure, and the post after recovery
    [dm] = fake_slack.messages(COORDINATOR)
    assert dm["text"].startswith(
        "⏰ The weekly digest for IMG Transition Cohort 2026 (week of Mon 16 Nov) is late."
    )
    assert "Slack was unavailable (http_500)" in dm["text"]
    assert len(fake_slack.messages(CHANNEL)) == 1
    assert digest_row(deps).status == "posted"


@pytest.mark.parametrize("programs", [only_img()])
def test_a_digest_refused_all_week_is_abandoned_with_one_line_when_the_next_one_is_due(
    bot: tuple[Deps, SteppedClock], fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    deps, clock = bot
    fake_slack.force_error("chat.postMessage", "not_in_channel", channel=CHANNEL)
    with caplog.at_level(logging.ERROR, logger="mentorbot.digests"):
        for now in minutes(DUE, DUE + timedelta(days=7, hours=1), timedelta(hours=1)):
            tick(deps, fake_slack, clock, now)
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        f"digest for {PROGRAM} week of {WEEK} still not posted after 2:00:00",
        f"digest for {PROGRAM} week of {WEEK} abandoned: not posted",
    ]
    [dm] = fake_slack.messages(COORDINATOR)
    assert "the bot is not a member of <#C0DIGEST> (invite it with `/invite @mentorbot`)" in dm["text"]
    assert len(posts_to(fake_slack, CHANNEL)) == 7 * 24 + 1  # hourly ticks: tried every one of them
    with deps.sessions.begin() as session:
        statuses = {row.week: row.status for row in session.scalars(select(DigestPost))}
    assert statuses == {WEEK: "abandoned", WEEK + timedelta(days=7): "failed"}


def test_a_connection_error_in_one_programs_digest_does_not_delay_anothers(
    bot: tuple[Deps, SteppedClock], fake_slack: FakeSlack
) -> None:
    deps, clock = bot
    now = NURSING_DUE + timedelta(minutes=1)  # both programs' first digests are due
    # More dropped connections than slack_sdk would retry: the old code let the third one escape.
    fake_slack.inject("chat.postMessage", disconnect=True, times=3, channel=CHANNEL)
    lines = tick(deps, fake_slack, clock, now)
    assert lines == [
        f"digest {PROGRAM} week of {WEEK}: not posted (RemoteDisconnected); will retry",
        f"digest nursing-2026 week of {WEEK}: posted to {NURSING_CHANNEL}; chart uploaded",
    ]
    later = [
        line
        for at in minutes(now + timedelta(minutes=1), now + timedelta(minutes=10))
        for line in tick(deps, fake_slack, clock, at)
    ]
    assert later[-1] == f"digest {PROGRAM} week of {WEEK}: posted to {CHANNEL} late; chart uploaded"
    assert all("not posted (RemoteDisconnected)" in line for line in later[:-1])  # the other two drops
    assert len(fake_slack.messages(CHANNEL)) == 1 and len(fake_slack.messages(NURSING_CHANNEL)) == 1


@pytest.mark.parametrize("programs", [only_img()])
def test_post_then_500_on_the_digest_posts_it_once(
    bot: tuple[Deps, SteppedClock], fake_slack: FakeSlack
) -> None:
    deps, clock = bot
    fake_slack.inject("chat.postMessage", 500, after_effect=True, channel=CHANNEL)
    [line] = tick(deps, fake_slack, clock, DUE + timedelta(minutes=1))
    assert line == f"digest {PROGRAM} week of {WEEK}: posted to {CHANNEL}; chart uploaded"
    assert tick(deps, fake_slack, clock, DUE + timedelta(minutes=30)) == []
    assert len(fake_slack.messages(CHANNEL)) == 1 and posts_to(fake_slack, CHANNEL) == [500]
