"""`mentorbot run` as a real process: start it, wait until it is ready, find its HTTP workers."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.support.factories import TIMEZONES
from tests.support.people import PROGRAMS_FILE, SECRET_KEY, SIGNING_SECRET

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env() -> dict[str, str]:
    """This environment without any of the bot's own variables."""
    prefixes = ("SLACK_", "MENTORBOT_", "DATABASE_URL", "PROMETHEUS_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def bot_env(*, database_url: str, slack_url: str, programs: Path = PROGRAMS_FILE) -> dict[str, str]:
    return clean_env() | {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_url,
        "DATABASE_URL": database_url,
        "MENTORBOT_PROGRAMS": str(programs),
        "MENTORBOT_SECRET_KEY": SECRET_KEY,
    }


def get(port: int, path: str, timeout: float = 5) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def wait_ready(port: int, proc: subprocess.Popen[str], timeout: float = 60) -> dict[str, Any]:
    """Poll /readyz until it answers 200; fail with the bot's stderr if the process ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"mentorbot exited {proc.returncode}: {proc.communicate()[1]}")
        try:
            status, body = get(port, "/readyz", timeout=2)
            if status == 200:
                return dict(json.loads(body))
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("mentorbot did not become ready")


@contextmanager
def running_bot(args: list[str], env: dict[str, str], cwd: Path) -> Iterator[subprocess.Popen[str]]:
    """`mentorbot ARGS...`; killed (with its workers) if the test leaves it running."""
    proc = subprocess.Popen(
        [str(BIN / "mentorbot"), *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the cleanup reaches the workers too
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.communicate()


def http_workers(pid: int) -> list[int]:
    """The granian worker processes of `mentorbot run --http` (spawned children running Python)."""
    workers = []
    for child in _children(pid):
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"multiprocessing" in cmdline and b"spawn_main" in cmdline:
            workers.append(child)
    return sorted(workers)


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue  # the thread ended while we looked
    return children


def listening_workers(pid: int, port: int) -> list[int]:
    """The HTTP workers that hold a listening socket on `port`: each granian worker listens on its own
    (SO_REUSEPORT), from when it has loaded the app until it exits."""
    listening = _listening_inodes(port)
    found = []
    for worker in http_workers(pid):
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{worker}/fd").iterdir()]
        except OSError:
            continue  # it ended while we looked
        if any(link.removeprefix("socket:[").removesuffix("]") in listening for link in links):
            found.append(worker)
    return found


def listening_sockets(port: int) -> int:
    """How many sockets listen on `port`: one per granian worker, until the last of its threads is gone
    (a killed worker's main thread turns zombie before its other threads let go of the socket)."""
    return len(_listening_inodes(port))


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(fields[9])
    return inodes


def programs_due_now(tmp_path: Path, mentee: str) -> Path:
    """The test programs, with img-2026's check-ins due two minutes ago in the mentee's own zone."""
    local = datetime.now(UTC).astimezone(ZoneInfo(TIMEZONES[mentee])) - timedelta(minutes=2)
    text = PROGRAMS_FILE.read_text().replace(
        'weekday: thu\n      local_time: "16:00"',
        f'weekday: {local.strftime("%a").lower()}\n      local_time: "{local:%H:%M}"',
    )
    path = tmp_path / "programs.yml"
    path.write_text(text)
    return path
