"""Simulated time for tests of long waits (Retry-After, leases, backoff) without waiting for them.

Each clock is both the bot's clock (`Deps.clock`) and the WebClient's way of waiting
(`build_web_client(settings, sleep=clock.sleep)`), so a 30-second Retry-After costs little or no
real time while the bot sees the time pass.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import datetime, timedelta

from bot.kernel.clock import SettableClock
from bot.kernel.deps import Deps
from bot.slack.client import build_web_client


class FastClock:
    """Time running `factor` times faster than real time, from `start`.

    Every thread sees the same simulated instant, so the order of events (a claim waiting past its
    lease while another's send is in flight) is the order they would have in real time.
    """

    def __init__(self, start: datetime, factor: float) -> None:
        self.start = start
        self.factor = factor
        self._t0 = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._t0) * self.factor)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(seconds, 0.0) / self.factor)


class SteppedClock(SettableClock):
    """A settable clock whose waits move it forward at once (one thread at a time: ticks in a loop)."""

    def __init__(self, now: datetime) -> None:
        super().__init__(now)
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += timedelta(seconds=max(seconds, 0.0))


def on_clock(deps: Deps, clock: FastClock | SteppedClock) -> Deps:
    """`deps` whose clock and WebClient waits are `clock`'s (same database and settings)."""
    client = build_web_client(deps.settings, sleep=clock.sleep)
    return dataclasses.replace(deps, clock=clock, client=client)
