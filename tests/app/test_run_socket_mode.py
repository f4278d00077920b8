"""`mentorbot run` with an app-level token, as an operator starts it: a real process over a real WebSocket."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from bot.fake_slack.server import FakeSlack
from bot.fake_slack.socket_requests import SocketModeSender
from tests.support.running import BIN, bot_env, free_port, get, running_bot
from tests.support.socket_mode import APP_TOKEN, newest_link, next_hello

CLOCK_TICK = 0.01  # /proc/PID/stat counts CPU time in 10 ms ticks on Linux


def socket_mode_env(database_url: str, fake: FakeSlack) -> dict[str, str]:
    env = bot_env(database_url=database_url, slack_url=fake.url)
    del env["SLACK_SIGNING_SECRET"]  # Socket Mode needs none
    return env | {"SLACK_APP_TOKEN": APP_TOKEN, "MENTORBOT_LOG_LEVEL": "DEBUG"}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * CLOCK_TICK


def test_run_serves_socket_mode_recovers_from_a_dropped_link_and_stops_cleanly_on_sigterm(
    database_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    sm, sender = fake_slack.socket_mode, SocketModeSender(fake_slack)
    port = free_port()
    args = ["run", "--tick-seconds", "3600", "--host", "127.0.0.1", "--health-port", str(port)]
    with running_bot(args, socket_mode_env(database_url, fake_slack), tmp_path) as proc:
        sm.wait_for_hello(timeout=60)
        reply = sender.command("/mentorship", "help", user_id="U0COORD1").json()
        assert "/mentorship pair" in reply["text"]
        assert get(port, "/readyz")[0] == 200

        # A proxy's idle timeout: the TCP connection ends without a WebSocket close frame.
        top, cpu, started = newest_link(fake_slack), cpu_seconds(proc.pid), time.monotonic()
        dropped = sm.fault("fin")
        hello = next_hello(fake_slack, after=top, timeout=20)
        assert "/mentorship pair" in sender.command("/mentorship", "help", user_id="U0COORD1").json()["text"]
        recovery = hello.hello_at - (sm.link(dropped).fault_at or 0.0)  # type: ignore[operator]
        spent = cpu_seconds(proc.pid) - cpu
        assert recovery < 10.0, f"deaf for {recovery:.1f}s after a FIN"
        assert spent < max(0.5, 0.5 * (time.monotonic() - started)), f"{spent:.2f}s CPU while reconnecting"

        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "mentorbot stopped" in stderr and "Traceback" not in stderr
    assert sm.wait_closed(hello.id).fault is None  # the bot closed it, with a close frame
    assert "U0COORD1" not in stderr and "/mentorship" not in stderr  # no payloads in the log, even at DEBUG
    assert sm.problems == []


def test_run_with_a_refused_app_token_says_so_in_one_line(
    database_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.socket_mode.refuse(APP_TOKEN, "invalid_auth")
    result = subprocess.run(
        [str(BIN / "mentorbot"), "run", "--tick-seconds", "3600"],
        env=socket_mode_env(database_url, fake_slack) | {"MENTORBOT_LOG_LEVEL": "INFO"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "SLACK_APP_TOKEN" in line]
    assert errors == [
        "SLACK_APP_TOKEN: Slack refused it (invalid_auth); create an app-level token with connections:write "
        "(Basic Information > App-Level Tokens) and turn on Socket Mode"
    ]
    assert "Traceback" not in result.stderr
    assert "Scheduler started" not in result.stderr  # refused before any scheduled work could run
