"""A dead bot token is one line naming SLACK_BOT_TOKEN: the fan-out stops within the tick, no warning per
check-in, `mentorbot tick` exits non-zero, and sends resume by themselves once Slack accepts it again."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.app.tick import tick
from bot.fake_slack.models import FakeUser
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from bot.slack.token_state import operator_line, token_failure
from tests.support.checkins import at, checkins, prompt_posts
from tests.support.factories import make_pair
from tests.support.people import PROGRAMS_FILE, SECRET_KEY, SIGNING_SECRET

START = at(2026, 11, 26, 0, 30)
DUE = at(2026, 11, 26, 10, 30)  # Thu 16:00 in Kolkata
WORKERS = 4
MENTORBOT = Path(sys.executable).with_name("mentorbot")


def seed(deps: Deps, fake: FakeSlack, count: int) -> list[str]:
    mentees = [f"U0DEAD{n:03d}" for n in range(count)]
    for mentee in mentees:
        fake.add_user(FakeUser(id=mentee, name=mentee.lower(), tz="Asia/Kolkata"))
        make_pair(deps, "U0MENTOR1", mentee, started_at=START, mentee_tz="Asia/Kolkata")
    return mentees


def mentorbot_tick(fake: FakeSlack, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_API_URL": fake.url,
        "DATABASE_URL": database_url,
        "MENTORBOT_PROGRAMS": str(PROGRAMS_FILE),
        "MENTORBOT_SECRET_KEY": SECRET_KEY,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "MENTORBOT_SEND_WORKERS": str(WORKERS),
        "MENTORBOT_SEND_RATE": "1000",
    }
    # cwd: a directory without a .env file, so only the variables above apply.
    command = [str(MENTORBOT), "tick", "--at", DUE.isoformat()]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=90, check=False)


def test_a_revoked_token_makes_mentorbot_tick_say_so_once_and_exit_non_zero(
    deps: Deps, fake_slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    seed(deps, fake_slack, 30)
    fake_slack.force_error("*", "token_revoked")
    done = mentorbot_tick(fake_slack, database_url, tmp_path)
    assert done.returncode == 1
    problems = [line for line in done.stderr.splitlines() if " WARNING " in line or " ERROR " in line]
    assert len(problems) == 1, done.stderr
    assert problems[0].endswith(f"mentorbot.slack: {operator_line('token_revoked')}")
    assert (
        "SLACK_BOT_TOKEN: Slack says token_revoked; the token was revoked or the app uninstalled"
        in problems[0]
    )
    assert len(fake_slack.calls) <= 2 * WORKERS  # stopped within the tick, not one call per mentee
    statuses = Counter(row.status for row in checkins(deps))
    assert statuses == {"failed": 30}  # each retried once the token works, none lost


@pytest.mark.parametrize("code", ["token_revoked", "invalid_auth", "account_inactive"])
def test_the_running_bot_names_a_dead_token_once_and_resumes_when_slack_accepts_it_again(
    deps: Deps, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, code: str
) -> None:
    mentees = seed(deps, fake_slack, 12)
    fake_slack.force_error("*", code)
    with caplog.at_level(logging.WARNING):
        tick(deps, DUE)
        calls = len(fake_slack.calls)
        assert token_failure() == code
        assert tick(deps, DUE.replace(minute=31)) == []
        assert [call.method for call in fake_slack.calls[calls:]] == ["auth.test"]  # one probe, nothing else
        refusals = [r.getMessage() for r in caplog.records]
        fake_slack.force_error("*", None)  # the app reinstalled, the new token set
        lines = tick(deps, DUE.replace(minute=40))
    assert refusals == [operator_line(code)]
    assert [r.getMessage() for r in caplog.records][1:] == [
        "SLACK_BOT_TOKEN: Slack accepts the token again; scheduled sends resume"
    ]
    assert token_failure() is None
    assert lines == [f"checkins img-2026: {len(mentees)} sent"]
    assert Counter(call.response["channel"] for call in prompt_posts(fake_slack)) == {
        f"D{m}": 1 for m in mentees
    }
