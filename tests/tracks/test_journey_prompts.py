"""Acceptance 2: journey prompts go out once each, in each reader's timezone, and survive a restart."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

from bot.app.bootstrap import bootstrap
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock
from bot.kernel.deps import Deps
from bot.kernel.settings import Settings
from bot.tracks.blocks import LOG_ACTION
from bot.tracks.deliveries import LEASE, run_due
from tests.support.people import PROGRAMS_FILE, SECRET_KEY, SIGNING_SECRET
from tests.support.tracks import at, deliveries, enrol_on, track_posts

MONDAY = date(2026, 11, 30)
KOLKATA_NINE = at(2026, 11, 30, 3, 30)  # 09:00 in Kolkata (the licensee), 22:30 the day before in New York
NEW_YORK_NINE = at(2026, 11, 30, 14, 0)  # 09:00 in New York (the mentor)
MENTORBOT = Path(sys.executable).with_name("mentorbot")


def enrol(deps: Deps) -> int:
    # Paired and enrolled the day before: no check-in is due yet, the journey's first topic is on MONDAY.
    return enrol_on(deps, "img-onboarding", start=MONDAY, now=at(2026, 11, 29, 12), mentee_tz="Asia/Kolkata")


def test_each_reader_gets_the_topic_at_nine_in_their_own_timezone_and_only_once(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    assert run_due(deps, KOLKATA_NINE - timedelta(minutes=1)) == []
    assert run_due(deps, KOLKATA_NINE) == ["tracks: journey prompts 1 sent"]
    assert [c.args["channel"] for c in track_posts(fake_slack)] == ["U0MENTEE1"]
    assert run_due(deps, KOLKATA_NINE + timedelta(hours=1)) == []
    assert run_due(deps, NEW_YORK_NINE - timedelta(minutes=1)) == []
    assert run_due(deps, NEW_YORK_NINE) == ["tracks: journey prompts 1 sent"]
    assert run_due(deps, NEW_YORK_NINE + timedelta(days=1)) == []
    assert Counter(c.args["channel"] for c in track_posts(fake_slack)) == {"U0MENTEE1": 1, "U0MENTOR1": 1}
    message = fake_slack.messages("U0MENTEE1")[-1]
    assert "How this hospital works" in message["blocks"][0]["text"]["text"]
    button = message["blocks"][-1]["elements"][0]
    assert (
        button["action_id"].startswith(f"{LOG_ACTION}:") and button["text"]["text"] == "Log a session on this"
    )


def test_a_second_process_on_the_same_database_sends_nothing_already_sent(
    deps: Deps, settings: Settings, fake_slack: FakeSlack, clock: SettableClock
) -> None:
    enrol(deps)
    run_due(deps, NEW_YORK_NINE)
    restarted = dataclasses.replace(bootstrap(settings, programs=deps.programs), clock=clock)
    try:
        assert run_due(restarted, NEW_YORK_NINE + timedelta(minutes=1)) == []
        assert run_due(restarted, NEW_YORK_NINE + timedelta(days=7)) == ["tracks: journey prompts 2 sent"]
    finally:
        restarted.engine.dispose()
    assert Counter(c.args["channel"] for c in track_posts(fake_slack)) == {"U0MENTEE1": 2, "U0MENTOR1": 2}


def test_a_tick_killed_before_recording_its_send_is_recovered_from_the_dm_without_a_second_copy(
    deps: Deps,
    settings: Settings,
    fake_slack: FakeSlack,
    database_url: str,
    tmp_path: Path,
    clock: SettableClock,
) -> None:
    enrol(deps)
    fake_slack.hold("chat.postMessage")
    process = tick_process(fake_slack, database_url, tmp_path, KOLKATA_NINE)
    fake_slack.wait_held(1, "chat.postMessage", timeout=60)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    fake_slack.release("chat.postMessage")  # the held send lands after the process died: never recorded
    fake_slack.wait_for(lambda: len(track_posts(fake_slack)) == 1, timeout=10, what="the orphaned send")
    assert [d.status for d in deliveries(deps)] == ["claimed"]

    restarted = dataclasses.replace(bootstrap(settings, programs=deps.programs), clock=clock)
    try:
        assert run_due(restarted, KOLKATA_NINE + LEASE / 2) == []  # the claim may still be alive
        run_due(restarted, KOLKATA_NINE + LEASE + timedelta(minutes=1))
    finally:
        restarted.engine.dispose()
    assert len(track_posts(fake_slack, user_id="U0MENTEE1")) == 1
    (row,) = deliveries(deps)
    assert row.status == "sent" and row.ts == fake_slack.messages("U0MENTEE1")[-1]["ts"]
    assert fake_slack.calls_to("conversations.history")  # found in the DM, not sent again


def test_a_send_that_failed_after_slack_posted_is_found_not_repeated(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    fake_slack.inject("chat.postMessage", status=500, after_effect=True)
    assert run_due(deps, KOLKATA_NINE) == ["tracks: journey prompts 1 sent"]
    assert len(fake_slack.messages("U0MENTEE1")) == 1  # posted once, though Slack answered 500
    assert run_due(deps, KOLKATA_NINE + timedelta(hours=2)) == []


def test_a_refused_send_is_retried_later_and_one_missed_past_the_grace_window_is_recorded(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    fake_slack.inject("chat.postMessage", error="channel_not_found")
    assert run_due(deps, KOLKATA_NINE) == ["tracks: journey prompts 1 failed"]
    assert run_due(deps, KOLKATA_NINE + timedelta(hours=1)) == ["tracks: journey prompts 1 sent"]
    # Down for a week: the next topic (due a week later) is too late to send when the bot comes back.
    assert run_due(deps, KOLKATA_NINE + timedelta(days=12)) == ["tracks: journey prompts 2 missed"]
    assert Counter(d.status for d in deliveries(deps)) == {"sent": 1, "missed": 2}


def test_log_a_session_on_this_opens_reflect_for_the_pair_with_the_topic_chosen(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    enrol(deps)
    run_due(deps, NEW_YORK_NINE)
    message = fake_slack.messages("U0MENTOR1")[-1]
    button = message["blocks"][-1]["elements"][0]
    slack.block_action("U0MENTOR1", action_id=button["action_id"], value=button["value"], message=message)
    fake_slack.wait_for(lambda: len(fake_slack.views) == 1, what="the /reflect modal")
    view = fake_slack.views[0]
    assert view["callback_id"] == "reflect"
    topics = next(b for b in view["blocks"] if b.get("block_id") == "topics")
    assert [o["value"] for o in topics["element"]["initial_options"]] == ["institutional-communication"]
    assert any("How this hospital works" in str(b) for b in view["blocks"])

    slack.block_action("U0OUTSIDE", action_id=button["action_id"], value=button["value"], message=message)
    fake_slack.wait_for(lambda: any("not part of" in str(b.get("text")) for _, b in fake_slack.responses))
    assert len(fake_slack.views) == 1


def tick_process(fake: FakeSlack, database_url: str, cwd: Path, when: datetime) -> subprocess.Popen[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_API_URL": fake.url,
        "DATABASE_URL": database_url,
        "MENTORBOT_PROGRAMS": str(PROGRAMS_FILE),
        "MENTORBOT_SECRET_KEY": SECRET_KEY,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "MENTORBOT_LOG_LEVEL": "WARNING",
    }
    command = [str(MENTORBOT), "tick", "--at", when.isoformat()]
    return subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
