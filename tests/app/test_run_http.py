"""`mentorbot run --http` as an operator starts it: a real process, the contract's variables."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from tests.support.people import PROGRAMS_FILE, SECRET_KEY, SIGNING_SECRET

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_health(port: int, proc: subprocess.Popen[str]) -> tuple[int, dict[str, object]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            response = conn.getresponse()
            return response.status, json.loads(response.read())
        except OSError:
            time.sleep(0.05)
    raise AssertionError("mentorbot did not start")


@pytest.fixture
def running_bot(
    database_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port = _free_port()
    env = _clean_env()
    env.update(
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.url,
        DATABASE_URL=database_url,
        MENTORBOT_PROGRAMS=str(PROGRAMS_FILE),
        MENTORBOT_SECRET_KEY=SECRET_KEY,
        MENTORBOT_LOG_LEVEL="DEBUG",
    )
    cmd = [str(BIN / "mentorbot"), "run", "--http", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    yield port, proc
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


def test_run_http_serves_health_commands_and_rejects_bad_signatures(
    running_bot: tuple[int, subprocess.Popen[str]], fake_slack: FakeSlack
) -> None:
    port, proc = running_bot
    assert _wait_for_health(port, proc) == (200, {"ok": True})
    sender = SlackRequestSender(
        url=f"http://127.0.0.1:{port}/slack/events", signing_secret=SIGNING_SECRET, fake=fake_slack
    )
    status, body, _ = sender.command("/mentorship", "help", user_id="U0COORD1", user_name="cora")
    assert status == 200 and "/mentorship pair" in json.loads(body)["text"]

    body_bytes = b"command=%2Fmentorship&text=help&user_id=U0COORD1"
    now = str(int(time.time()))
    bad_headers = [
        {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=" + "0" * 64},
        sender.sign(body_bytes, timestamp=str(int(time.time()) - 600)),
        {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": "v0=abc"},
        {"X-Slack-Request-Timestamp": "12ab", "X-Slack-Signature": "v0=abc"},
    ]
    for headers in bad_headers:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        assert sender.raw(body_bytes, headers)[0] == 401

    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "mentorbot stopped" in stderr
    assert "Traceback" not in stderr
    assert "U0COORD1" not in stderr  # no request bodies in the log, even at DEBUG


def _clean_env() -> dict[str, str]:
    """This environment without any of the bot's own variables."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MENTORBOT_", "DATABASE_URL"))}


def _run_until_it_gives_up(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "mentorbot"), "run", "--http"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_without_tokens_names_the_variables(tmp_path: Path) -> None:
    result = _run_until_it_gives_up(tmp_path, _clean_env())
    assert result.returncode == 1
    assert "SLACK_BOT_TOKEN: required" in result.stderr
    assert "SLACK_SIGNING_SECRET: required in HTTP mode" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_with_slack_unreachable_says_so_in_one_line(tmp_path: Path) -> None:
    env = _clean_env() | {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": f"http://127.0.0.1:{_free_port()}/api/",  # nothing listens there
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "MENTORBOT_PROGRAMS": str(PROGRAMS_FILE),
        "MENTORBOT_SECRET_KEY": SECRET_KEY,
    }
    result = _run_until_it_gives_up(tmp_path, env)
    assert result.returncode == 1
    assert "SLACK_API_URL: cannot reach http://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr
