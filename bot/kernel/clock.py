"""The one place wall-clock time is read; everything else takes `now` as an argument."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


class SettableClock:
    """A clock that reads a time someone sets: the demo's simulated weeks and the tests' instants."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def zone_of(timezone: str | None, fallback: str) -> ZoneInfo:
    """A person's zone when known and valid, else the program's (`fallback`, validated at load time)."""
    if timezone:
        try:
            return ZoneInfo(timezone)
        except (ValueError, KeyError, OSError):
            pass
    return ZoneInfo(fallback)
