"""When check-ins fall due: pure functions of the program's schedule, the mentee's zone and `now`.

A period is the mentee-local date a prompt is due on; its due instant is `local_time` on that date in
the mentee's own timezone. Around DST changes a local time that does not exist that day fires at the
next valid minute, and one that exists twice fires once, at its first occurrence (fold=0).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.kernel.programs import CheckinConfig

# How far back a tick looks for periods it has not recorded yet (down time, new pairs).
LOOKBACK = timedelta(days=28)


@dataclass(frozen=True)
class Period:
    day: date  # the mentee-local date the prompt is due on
    due_at: datetime  # UTC
    remind_at: datetime
    expires_at: datetime


@lru_cache(maxsize=4096)
def due_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`at` on `day` in `zone` as a UTC instant; a wall time skipped by DST moves to the next valid minute."""
    local = datetime.combine(day, at, tzinfo=zone)  # fold=0: the first of two ambiguous instants
    while not _exists(local):
        local += timedelta(minutes=1)  # aware + timedelta is wall-clock arithmetic
    return local.astimezone(UTC)


def _exists(local: datetime) -> bool:
    round_trip = local.astimezone(UTC).astimezone(local.tzinfo)
    return round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)


def step(config: CheckinConfig) -> timedelta:
    return timedelta(days=14 if config.cadence == "biweekly" else 7)


def first_day(config: CheckinConfig, zone: ZoneInfo, anchor: datetime) -> date:
    """The first scheduled local date whose due instant is not before `anchor` (the pair's start).

    Biweekly parity counts from this date, so a new pair's first check-in comes at the first
    scheduled time after pairing and every second week after that.
    """
    start = anchor.astimezone(zone).date()
    day = start + timedelta(days=(config.weekday_index - start.weekday()) % 7)
    if due_instant(day, config.local_time, zone) < anchor:
        day += timedelta(days=7)
    return day


def period_on(config: CheckinConfig, zone: ZoneInfo, day: date) -> Period:
    due = due_instant(day, config.local_time, zone)
    return Period(
        day=day,
        due_at=due,
        remind_at=due + timedelta(hours=config.reminder_after_hours),
        expires_at=due + timedelta(hours=config.expire_after_hours),
    )


def periods_due(
    config: CheckinConfig, zone: ZoneInfo, anchor: datetime, *, since: datetime, until: datetime
) -> list[Period]:
    """Periods whose due instant lies in [since, until], oldest first, none before `anchor`."""
    first = first_day(config, zone, anchor)
    interval = step(config)
    earliest = since.astimezone(zone).date() - timedelta(days=1)
    skip = max(0, -(-(earliest - first).days // interval.days))  # ceiling division
    day = first + skip * interval
    last = until.astimezone(zone).date() + timedelta(days=1)
    found = []
    while day <= last:
        period = period_on(config, zone, day)
        if since <= period.due_at <= until:
            found.append(period)
        day += interval
    return found


def next_period(config: CheckinConfig, zone: ZoneInfo, anchor: datetime, *, after: datetime) -> Period:
    """The first period due strictly after `after`."""
    first = first_day(config, zone, anchor)
    interval = step(config)
    earliest = after.astimezone(zone).date() - timedelta(days=1)
    skip = max(0, -(-(earliest - first).days // interval.days))
    day = first + skip * interval
    while True:
        period = period_on(config, zone, day)
        if period.due_at > after:
            return period
        day += interval


def paused_at(paused_from: datetime | None, paused_until: datetime | None, at: datetime) -> bool:
    """Whether a pause [paused_from, paused_until) covers `at`; no end means until resumed."""
    if paused_from is None or at < paused_from:
        return False
    return paused_until is None or at < paused_until


def local_label(instant: datetime, zone: ZoneInfo, *, with_time: bool = True) -> str:
    """'Thu 3 Dec, 16:00' in `zone` — how people read dates in messages."""
    local = instant.astimezone(zone)
    day = f"{local:%a} {local.day} {local:%b}"
    return f"{day}, {local:%H:%M}" if with_time else day
