import dataclasses
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.app.bootstrap import bootstrap
from bot.digests import posting as digests
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig, load_programs
from bot.kernel.settings import Settings
from tests.support.digests import DUE, WEEK, add_people, answer_week, mentee_ids
from tests.support.people import PROGRAMS_FILE, SECRET_KEY

ON_TIME = DUE.replace(minute=1)
ROOT = Path(__file__).resolve().parents[2]

RUN_DUE = """
import sys
from datetime import datetime
import pytest
import yaml

from bot.digests import posting as digests
from bot.app.bootstrap import bootstrap
from bot.kernel.settings import Settings

settings = Settings(
    _env_file=None, slack_bot_token="xoxb-test-token", slack_signing_secret="s",
    slack_api_url=sys.argv[1], database_url=sys.argv[2], programs_file=sys.argv[3], secret_key=sys.argv[4],
)
for line in digests.run_due(bootstrap(settings), datetime.fromisoformat(sys.argv[5])):
    print(line, flush=True)
"""


@pytest.fixture
def programs() -> ProgramsConfig:
    return ProgramsConfig(programs=[p for p in load_programs(PROGRAMS_FILE).programs if p.id == "img-2026"])


@pytest.fixture
def programs_file(tmp_path: Path) -> Path:
    data = yaml.safe_load(PROGRAMS_FILE.read_text())
    data["programs"] = [p for p in data["programs"] if p["id"] == "img-2026"]
    path = tmp_path / "programs.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _digest_posts(fake: FakeSlack, channel: str = "C0DIGEST") -> int:
    return sum(1 for call in fake.calls_to("chat.postMessage") if call.args.get("channel") == channel)


def test_two_instances_racing_post_the_week_once(
    deps: Deps, settings: Settings, programs: ProgramsConfig, fake_slack: FakeSlack
) -> None:
    add_people(deps, mentee_ids(6))
    answer_week(deps, WEEK, dict.fromkeys(mentee_ids(6), (4, 5, True)))
    # A second instance: its own engine, connection pool and WebClient, like another process.
    other = dataclasses.replace(bootstrap(settings, programs=programs), clock=deps.clock)
    fake_slack.hold("chat.postMessage")
    barrier = threading.Barrier(2)
    results: list[list[str]] = []

    def run(instance: Deps) -> None:
        barrier.wait()
        results.append(digests.run_due(instance, ON_TIME))

    threads = [threading.Thread(target=run, args=(instance,)) for instance in (deps, other)]
    for thread in threads:
        thread.start()
    try:
        fake_slack.wait_held(1, "chat.postMessage", timeout=30)
        _until(lambda: len(results) == 1)  # the loser finished without posting while the winner is held
    finally:
        fake_slack.release("chat.postMessage")
        for thread in threads:
            thread.join(timeout=30)
    other.engine.dispose()
    assert _digest_posts(fake_slack) == 1
    assert sorted(len(lines) for lines in results) == [0, 1]


def test_two_processes_racing_post_the_week_once(
    deps: Deps, settings: Settings, fake_slack: FakeSlack, programs_file: Path
) -> None:
    add_people(deps, mentee_ids(6))
    fake_slack.hold("chat.postMessage")
    args = [fake_slack.url, settings.database_url, str(programs_file), SECRET_KEY, ON_TIME.isoformat()]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", RUN_DUE, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        fake_slack.wait_held(1, "chat.postMessage", timeout=60)
        _until(lambda: any(p.poll() is not None for p in processes), timeout=60)
    finally:
        fake_slack.release("chat.postMessage")
        outputs = [p.communicate(timeout=60)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0]
    assert _digest_posts(fake_slack) == 1
    assert sorted(len(out.splitlines()) for out in outputs) == [0, 1], outputs


def test_restart_after_downtime_posts_the_missed_digest(
    deps: Deps, settings: Settings, programs: ProgramsConfig, fake_slack: FakeSlack
) -> None:
    # The instance that ran last week went down before this Monday; a fresh one starts on Wednesday.
    assert digests.run_due(deps, DUE.replace(day=16, minute=1))
    deps.engine.dispose()
    restarted = dataclasses.replace(bootstrap(settings, programs=programs), clock=deps.clock)
    lines = digests.run_due(restarted, DUE.replace(day=25))
    restarted.engine.dispose()
    assert any(line.startswith(f"digest img-2026 week of {WEEK}: posted to C0DIGEST late") for line in lines)
    assert _digest_posts(fake_slack) == 2
