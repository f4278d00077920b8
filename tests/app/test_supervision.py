"""Processes that stay up: a killed HTTP worker is replaced while the bot keeps serving and scheduling."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from tests.support.checkins import prompt_posts
from tests.support.factories import make_pair
from tests.support.people import SIGNING_SECRET
from tests.support.running import (
    bot_env,
    free_port,
    get,
    listening_sockets,
    listening_workers,
    programs_due_now,
    running_bot,
    wait_ready,
)
from tests.support.waiting import wait_until


def _both_listening(pid: int, port: int) -> list[int] | None:
    workers = listening_workers(pid, port)
    return workers if len(workers) == 2 else None


def test_a_killed_http_worker_is_replaced_and_the_bot_keeps_serving_and_scheduling(
    database_url: str, deps: Deps, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    port = free_port()
    programs = programs_due_now(tmp_path, "U0MENTEE1")
    env = bot_env(database_url=database_url, slack_url=fake_slack.url, programs=programs)
    args = ["run", "--http", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--workers", "2", "--tick-seconds", "1"]
    with running_bot(args, env, tmp_path) as proc:
        wait_ready(port, proc)
        sender = SlackRequestSender(
            url=f"http://127.0.0.1:{port}/slack/events", signing_secret=SIGNING_SECRET, fake=fake_slack
        )
        first, second = wait_until(
            lambda: _both_listening(proc.pid, port), "both workers serving", timeout=30
        )

        os.kill(first, signal.SIGKILL)
        # Connections already queued on the killed worker's own socket die with it (RST); once that
        # socket is closed, the other worker takes every new one.
        wait_until(lambda: listening_sockets(port) == 1, "the killed worker's socket to close")
        for _ in range(10):
            assert sender.command("/checkin", "help", user_id="U0MENTEE1").status == 200
        workers = wait_until(lambda: _both_listening(proc.pid, port), "a new worker serving", timeout=30)
        assert second in workers and first not in workers

        # Scheduling: a check-in that falls due now goes out from the scheduler's process.
        make_pair(deps, started_at=datetime.now(UTC) - timedelta(days=1))
        fake_slack.wait_for(
            lambda: len(prompt_posts(fake_slack)) >= 1, timeout=20, what="the check-in prompt"
        )
        assert get(port, "/readyz")[0] == 200
        assert sender.command("/checkin", "help", user_id="U0MENTEE1").status == 200

        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert len(prompt_posts(fake_slack)) == 1
    assert "Unexpected exit from worker-1" in stdout  # granian's own line
    assert "Traceback" not in stderr
    assert "mentorbot stopped" in stderr
