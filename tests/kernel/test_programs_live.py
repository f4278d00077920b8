"""programs.yml edited while the bot runs: applied within one tick, or refused in one line."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.app.bootstrap import bootstrap
from bot.app.tick import tick
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.programs import ConfigError
from bot.kernel.programs_live import (
    RUNNING_COPY_VARIABLE,
    RunningCopy,
    last_reload_error,
    open_programs,
    refresh_programs,
    request_reload,
    watch_programs,
)
from bot.kernel.settings import Settings
from storage.crypto import Keys
from storage.models import Program
from tests.support.people import PROGRAMS_FILE, SIGNING_SECRET
from tests.support.running import BIN, bot_env, free_port, get, listening_workers, wait_ready
from tests.support.waiting import wait_until

NURSING = "nursing-2026"
REFUSED = f"Only coordinators of {NURSING} can read its concerns."
BAD_ZONE = "programs[1].timezone: 'Mars/Olympus' is not a known IANA timezone"


@pytest.fixture
def programs_path(tmp_path: Path) -> Path:
    path = tmp_path / "programs.yml"
    shutil.copyfile(PROGRAMS_FILE, path)
    return path


@pytest.fixture
def deps(settings: Settings, programs_path: Path, keys: Keys, clock: Clock) -> Iterator[Deps]:
    """The bot as `mentorbot run` builds it: its programs read from, and following, a file of its own."""
    started = bootstrap(settings.model_copy(update={"programs_file": programs_path}))
    ready = dataclasses.replace(started, programs=started.programs_live, clock=clock)
    yield ready
    ready.engine.dispose()


@pytest.fixture(autouse=True)
def _no_reload_error_left_behind() -> Iterator[None]:
    yield
    assert last_reload_error() is None, "a test left an invalid programs file reported (readiness would fail)"


def edit(path: Path, change: Callable[[dict[str, Any]], None], *, source: Path | None = None) -> None:
    """Save `change` applied to `source` (default: the file itself) whole, as an editor's rename does."""
    data = yaml.safe_load((source or path).read_text())
    change(data)
    saving = path.with_name(path.name + ".saving")
    saving.write_text(yaml.safe_dump(data, sort_keys=False))
    os.replace(saving, path)


def edit_in_place_keeping_size_and_mtime(path: Path, old: str, new: str) -> None:
    """An edit no stat can see: only a hash (every REHASH_SECONDS, every tick) or SIGHUP finds it."""
    assert len(old) == len(new)
    before = os.stat(path)
    with path.open("r+") as file:  # one write over the same bytes: never truncated, not even briefly
        text = file.read()
        file.seek(0)
        file.write(text.replace(old, new))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def drop_nursing_coordinator(data: dict[str, Any]) -> None:
    data["programs"][1]["coordinators"] = ["U0COORD1"]


def mars(data: dict[str, Any]) -> None:
    data["programs"][1]["timezone"] = "Mars/Olympus"
    drop_nursing_coordinator(data)  # would refuse U0COORD2 if this edit were applied


def concerns_reply(slack: SlackRequestSender, user_id: str = "U0COORD2", program: str = NURSING) -> str:
    status, body, _ = slack.command("/mentorship", f"concerns {program}", user_id=user_id)
    assert status == 200
    return str(json.loads(body)["text"])


def test_a_coordinator_removed_from_programs_yml_is_refused_at_the_next_tick(
    deps: Deps, slack: SlackRequestSender, programs_path: Path, clock: Clock
) -> None:
    assert concerns_reply(slack) == "0 open concern(s) in Nurse Residency 2026"
    edit(programs_path, drop_nursing_coordinator)
    tick(deps, clock())
    assert concerns_reply(slack).startswith(REFUSED)


def test_a_new_program_and_new_checkin_times_apply_within_one_tick(
    deps: Deps, slack: SlackRequestSender, programs_path: Path, clock: Clock
) -> None:
    def add_and_move(data: dict[str, Any]) -> None:
        surgery = {**data["programs"][1], "id": "surgery-2026", "name": "Surgical Residency 2026"}
        data["programs"].append(surgery)
        data["programs"][0]["checkins"]["local_time"] = "09:15"

    edit(programs_path, add_and_move)
    tick(deps, clock())
    assert deps.programs.ids == ["img-2026", NURSING, "surgery-2026"]
    checkins = deps.programs.get("img-2026")
    assert checkins is not None and checkins.checkins.local_time == time(9, 15)
    with deps.read_sessions.begin() as session:  # synced before it was swapped in: pairable at once
        assert session.scalar(select(Program.name).where(Program.id == "surgery-2026")) == (
            "Surgical Residency 2026"
        )
    assert concerns_reply(slack, program="surgery-2026") == "0 open concern(s) in Surgical Residency 2026"


def test_an_invalid_edit_leaves_the_running_bot_unchanged_and_says_why_in_one_line(
    deps: Deps,
    slack: SlackRequestSender,
    programs_path: Path,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    running = deps.programs
    caplog.set_level(logging.DEBUG, logger="mentorbot.programs")
    edit(programs_path, mars)
    tick(deps, clock())
    tick(deps, clock())  # the same broken file again: already said
    refresh_programs(deps, reread=True)

    lines = [record for record in caplog.records if record.name == "mentorbot.programs"]
    assert [(r.levelname, r.getMessage()) for r in lines] == [
        ("ERROR", f"{programs_path}: {BAD_ZONE} (kept the running configuration)")
    ]
    assert deps.programs is running
    assert concerns_reply(slack) == "0 open concern(s) in Nurse Residency 2026"
    assert last_reload_error(deps) == last_reload_error() == f"{programs_path}: {BAD_ZONE}"

    shutil.copyfile(PROGRAMS_FILE, programs_path)  # the operator undoes the edit
    tick(deps, clock())
    assert last_reload_error(deps) is None and last_reload_error() is None
    assert deps.programs is running


def test_an_edit_that_keeps_size_and_mtime_is_found_by_its_hash(
    deps: Deps, programs_path: Path, clock: Clock
) -> None:
    edit_in_place_keeping_size_and_mtime(programs_path, 'local_time: "16:00"', 'local_time: "17:00"')
    assert refresh_programs(deps) is False  # the stat looks the same: not read (until REHASH_SECONDS)
    tick(deps, clock())  # every tick reads and hashes
    program = deps.programs.get("img-2026")
    assert program is not None and program.checkins.local_time == time(17, 0)


def test_a_reload_request_wakes_the_watcher_thread_without_waiting_for_a_poll(
    deps: Deps, slack: SlackRequestSender, programs_path: Path
) -> None:
    watcher = watch_programs(deps, every=3600)
    try:
        edit(programs_path, drop_nursing_coordinator)
        request_reload(deps)  # what SIGHUP does
        wait_until(lambda: deps.programs.get(NURSING).coordinators == ("U0COORD1",), what="the reload")
    finally:
        watcher.stop()
    assert concerns_reply(slack).startswith(REFUSED)


def test_a_copy_made_with_replace_keeps_the_configuration_it_was_given(
    deps: Deps, programs_path: Path, clock: Clock
) -> None:
    pinned = dataclasses.replace(deps, clock=clock)  # how tests and the demo pin a configuration
    edit(programs_path, drop_nursing_coordinator)
    tick(deps, clock())
    tick(pinned, clock())
    assert deps.programs.get(NURSING).coordinators == ("U0COORD1",)
    assert pinned.programs.get(NURSING).coordinators == ("U0COORD2",)
    assert pinned.programs_live.path is None


def test_a_worker_started_during_an_invalid_edit_runs_what_its_parent_runs(
    deps: Deps, programs_path: Path
) -> None:
    copy = RunningCopy(deps)  # what `run --http` leaves for the workers it spawns
    try:
        edit(programs_path, drop_nursing_coordinator)
        assert refresh_programs(deps) is True
        assert Path(copy.path).read_text() == programs_path.read_text()
        edit(programs_path, mars)
        assert refresh_programs(deps) is False

        with pytest.raises(ConfigError):
            open_programs(programs_path)  # how `run` itself starts: an invalid file stops it, in one line
        worker = open_programs(programs_path, follower=True)
        assert worker.current.get(NURSING).coordinators == ("U0COORD1",)
        assert worker.refresh(apply=lambda _config: None) is False
        assert worker.error == f"{programs_path}: {BAD_ZONE}"

        programs_path.write_text(Path(copy.path).read_text())  # the operator undoes the edit
        assert worker.refresh(apply=lambda _config: None, reread=True) is False
        assert refresh_programs(deps, reread=True) is False
        assert worker.error is None and last_reload_error() is None
    finally:
        copy.remove()
    assert not Path(copy.path).exists() and RUNNING_COPY_VARIABLE not in os.environ


def test_no_sighup_handler_is_installed_by_importing_the_app() -> None:
    import bot.app.bolt_app
    import bot.app.cli
    import bot.app.wsgi  # noqa: F401

    assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL


# --- a real `mentorbot run --http` ----------------------------------------------------------------------


class Stderr:
    """The process's stderr, read line by line on a thread so the test can wait for a line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert proc.stderr is not None
        self._thread = threading.Thread(target=self._read, args=(proc.stderr,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def matching(self, text: str) -> list[str]:
        return [line for line in list(self.lines) if text in line]

    def wait_for(self, text: str) -> list[str]:
        try:
            found: list[str] = wait_until(lambda: self.matching(text), what=repr(text), timeout=20)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the log so far:\n" + "\n".join(self.lines)) from None
        return found

    def finish(self) -> None:
        self._thread.join(timeout=20)


@pytest.fixture
def running_bot(
    database_url: str, fake_slack: FakeSlack, tmp_path: Path, programs_path: Path
) -> Iterator[tuple[int, subprocess.Popen[str], Stderr]]:
    port = free_port()
    env = bot_env(database_url=database_url, slack_url=fake_slack.url, programs=programs_path)
    env["MENTORBOT_LOG_LEVEL"] = "DEBUG"  # workers report their reloads at DEBUG
    # No tick during the test: the ticks' own re-reads would find what only SIGHUP should.
    args = [
        "run",
        "--http",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
        "--tick-seconds",
        "3600",
    ]
    proc = subprocess.Popen(
        [str(BIN / "mentorbot"), *args],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the cleanup reaches the workers too
    )
    yield port, proc, Stderr(proc)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_sighup_rereads_programs_yml_in_a_running_http_bot_and_every_worker_follows(
    running_bot: tuple[int, subprocess.Popen[str], Stderr], fake_slack: FakeSlack, programs_path: Path
) -> None:
    port, proc, stderr = running_bot
    wait_ready(port, proc)
    wait_until(lambda: len(listening_workers(proc.pid, port)) == 2, what="both workers", timeout=30)
    slack = SlackRequestSender(
        url=f"http://127.0.0.1:{port}/slack/events", signing_secret=SIGNING_SECRET, fake=fake_slack
    )
    assert concerns_reply(slack) == "0 open concern(s) in Nurse Residency 2026"
    reloaded = f"mentorbot.programs: {programs_path}: reloaded: 2 programs"

    # SIGHUP: the `run` process re-reads at once an edit that its 2-second stat poll cannot see.
    edit_in_place_keeping_size_and_mtime(programs_path, "[U0COORD2]", "[U0COORD1]")
    proc.send_signal(signal.SIGHUP)
    stderr.wait_for(f"INFO {reloaded}")
    # Workers follow the file by its stat: once it is touched, each takes the edit (and says so at DEBUG).
    os.utime(programs_path)
    wait_until(lambda: len(stderr.matching(f"DEBUG {reloaded}")) == 2, what="both workers' reloads")
    for _ in range(6):
        assert concerns_reply(slack).startswith(REFUSED)

    # An invalid edit: one line from the `run` process (workers note it at DEBUG), nothing changes.
    edit(programs_path, mars, source=PROGRAMS_FILE)
    refused = stderr.wait_for(f"ERROR mentorbot.programs: {programs_path}: {BAD_ZONE}")
    assert len(refused) == 1 and refused[0].endswith(f"{BAD_ZONE} (kept the running configuration)")
    wait_until(lambda: len(stderr.matching(f"DEBUG mentorbot.programs: {programs_path}: {BAD_ZONE}")) == 2)
    assert get(port, "/healthz")[0] == 200  # alive: nothing to restart
    status, body = get(port, "/readyz")  # not ready as written: the operator's probe shows why
    assert status == 503 and BAD_ZONE in body
    for _ in range(6):  # both workers still run the previous, valid edit
        assert concerns_reply(slack).startswith(REFUSED)
    proc.send_signal(signal.SIGHUP)  # asked again, the operator is told again, in the same line
    wait_until(lambda: len(stderr.matching(f"ERROR mentorbot.programs: {programs_path}")) == 2)

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    stderr.finish()
    errors = stderr.matching("ERROR mentorbot.programs")
    assert [line[24:] for line in errors] == [refused[0][24:]] * 2  # after the timestamp
    assert not stderr.matching("Traceback")
