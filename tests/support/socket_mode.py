"""Running the real app over Socket Mode against the fake Slack's endpoint, in this process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bot.app.bolt_app import build_app
from bot.app.socket_mode import SocketModeRunner, SocketModeSettings
from bot.fake_slack.server import FakeSlack
from bot.fake_slack.socket_mode import Link
from bot.kernel.deps import Deps

APP_TOKEN = "xapp-1-A0MENTOR-1-test"


@contextmanager
def socket_mode_bot(
    deps: Deps, fake: FakeSlack, settings: SocketModeSettings | None = None, *, wait: bool = True
) -> Iterator[SocketModeRunner]:
    """The bot connected over Socket Mode (its first hello received unless wait=False); stopped after."""
    runner = SocketModeRunner(build_app(deps), APP_TOKEN, client=deps.client, settings=settings)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            runner.run()
        except BaseException as exc:  # surfaced to the test below, not lost in a thread
            errors.append(exc)

    thread = threading.Thread(target=run, name="socket-mode-runner", daemon=True)
    thread.start()
    try:
        if wait:
            fake.socket_mode.wait_for_hello(timeout=10)
        yield runner
    finally:
        runner.stop()
        thread.join(10)
    assert not thread.is_alive(), "the Socket Mode runner did not stop"
    assert not errors, errors
    assert fake.socket_mode.problems == []


def newest_link(fake: FakeSlack) -> int:
    return max((link.id for link in fake.socket_mode.links), default=0)


def next_hello(fake: FakeSlack, after: int, timeout: float) -> Link:
    """The first link opened after link `after` that said hello, with its hello time."""
    link = fake.socket_mode.wait_for_hello(after=after, timeout=timeout)
    assert link.hello_at is not None
    return link
