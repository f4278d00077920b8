"""Real `mentorbot tick` processes against one database and the in-test fake Slack."""

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from bot.fake_slack.models import FakeUser
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from tests.support.checkins import at, checkins, prompt_posts, prompts_per_channel, prompts_to
from tests.support.factories import make_pair
from tests.support.people import PROGRAMS_FILE, SECRET_KEY, SIGNING_SECRET

START = at(2026, 11, 23, 9, 0)
DUE = at(2026, 11, 26, 10, 30)  # Thu 16:00 in Kolkata
WORKERS = 4
MENTORBOT = Path(sys.executable).with_name("mentorbot")


def seed(deps: Deps, fake: FakeSlack, count: int) -> list[str]:
    mentees = [f"U0PROC{n:03d}" for n in range(count)]
    for mentee in mentees:
        fake.add_user(FakeUser(id=mentee, name=mentee.lower(), tz="Asia/Kolkata"))
        make_pair(deps, "U0MENTOR1", mentee, started_at=START, mentee_tz="Asia/Kolkata")
    return mentees


def tick_process(fake: FakeSlack, database_url: str, cwd: Path, when: datetime) -> subprocess.Popen[str]:
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
        "MENTORBOT_LOG_LEVEL": "WARNING",
    }
    command = [str(MENTORBOT), "tick", "--at", when.isoformat()]
    # cwd: a directory without a .env file, so only the variables above apply.
    return subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finished(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=90)
    assert process.returncode == 0, err
    return out


def sent_in(output: str) -> int:
    return sum(int(n) for n in re.findall(r"(\d+) sent", output))


def test_two_tick_processes_started_together_send_each_prompt_once(
    deps: Deps, fake_slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    mentees = seed(deps, fake_slack, 100)
    fake_slack.hold("chat.postMessage")
    processes = [tick_process(fake_slack, database_url, tmp_path, DUE) for _ in range(2)]
    # More sends parked than one process has workers: both processes are mid fan-out at once.
    fake_slack.wait_held(WORKERS + 1, "chat.postMessage", timeout=60)
    fake_slack.release("chat.postMessage")
    outputs = [finished(p) for p in processes]
    assert [sent_in(o) > 0 for o in outputs] == [True, True]
    assert sum(sent_in(o) for o in outputs) == len(mentees)
    assert prompts_per_channel(fake_slack) == {f"D{m}": 1 for m in mentees}
    assert Counter(r.status for r in checkins(deps)) == {"sent": len(mentees)}


def test_a_tick_killed_mid_fan_out_is_recovered_on_restart_with_one_prompt_each(
    deps: Deps, fake_slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    mentees = seed(deps, fake_slack, 60)
    fake_slack.set_latency(0.02, "chat.postMessage")
    process = tick_process(fake_slack, database_url, tmp_path, DUE)
    fake_slack.wait_for(lambda: len(fake_slack.calls_to("chat.postMessage")) >= 12, timeout=60)
    fake_slack.hold("chat.postMessage")
    fake_slack.wait_held(WORKERS, "chat.postMessage", timeout=10)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    delivered_before = len(prompt_posts(fake_slack))
    fake_slack.release("chat.postMessage")  # the parked sends land after the process died: never recorded
    fake_slack.wait_for(lambda: len(prompt_posts(fake_slack)) >= delivered_before + WORKERS, timeout=10)
    fake_slack.set_latency(0, "chat.postMessage")
    left = Counter(r.status for r in checkins(deps))
    assert left["claimed"] >= WORKERS and left["sent"] < len(mentees)

    restarted = finished(tick_process(fake_slack, database_url, tmp_path, DUE + timedelta(minutes=6)))
    assert "sent" in restarted
    assert prompts_per_channel(fake_slack) == {f"D{m}": 1 for m in mentees}
    rows = checkins(deps)
    assert Counter(r.status for r in rows) == {"sent": len(mentees)}
    assert all(r.ts == prompts_to(fake_slack, r.mentee_id)[0]["ts"] for r in rows)
    assert fake_slack.calls_to("conversations.history")  # recovered from the DM history, not re-sent
