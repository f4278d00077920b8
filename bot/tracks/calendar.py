"""Dating a track: every milestone of an enrolment as a calendar day, and each reader's send instant.

Pure functions of the track and the start day. Months keep the start's day of the month, clamped to the
month's last day, and are always counted from the start (never step by step), so a licence that starts
on 31 January has reviews on 30 April, 31 July, 31 October and 31 January, and one that starts on 29
February has its yearly milestones on 28 February. A milestone's DM goes out at the track's prompt time
on its day in each reader's own timezone, with bot.checkins.schedule's DST rules.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.checkins.schedule import due_instant
from bot.tracks.catalog import Offset, Phase, Track

TOPIC, REVIEW, CHECKPOINT = "topic", "review", "checkpoint"
KIND_ORDER = {TOPIC: 0, REVIEW: 1, CHECKPOINT: 2}
MAX_PER_PHASE = 520  # ten years of weekly topics: a guard against a phase that never ends


@dataclass(frozen=True)
class Planned:
    """One milestone as the track dates it, before it is stored."""

    kind: str
    due_on: date
    title: str
    phase: str = ""
    body: str = ""
    reflect_topic: str | None = None
    period_start: date | None = None
    flag_on: date | None = None


def shifted(start: date, offset: Offset, times: int = 1) -> date:
    """`start` moved by `offset` `times` times (negative moves back); months clamp to the month's end."""
    return _moved(start, offset.unit, offset.amount * times)


def _moved(start: date, unit: str, amount: int) -> date:
    if unit == "days":
        return start + timedelta(days=amount)
    if unit == "weeks":
        return start + timedelta(weeks=amount)
    months = start.year * 12 + start.month - 1 + amount
    year, month = divmod(months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last))


def _nth(start: date, first: Offset, every: Offset, index: int) -> date:
    """The `index`-th date of a series: counted from `start` itself when the units agree, so a clamped
    day (29 February -> 28 February) never shifts the days after it."""
    if first.unit == every.unit:
        return _moved(start, first.unit, first.amount + index * every.amount)
    return shifted(shifted(start, first), every, index)


def plan_milestones(track: Track, start: date) -> list[Planned]:
    """Every dated milestone of `track` from `start`, in date order (topics, then reviews, then checkpoints
    on the same day)."""
    planned = [m for phase in track.phases for m in _phase(phase, start)]
    planned += _reviews(track, start)
    planned += [
        Planned(CHECKPOINT, shifted(start, c.at), c.title, body=c.text or "") for c in track.checkpoints
    ]
    return sorted(planned, key=lambda m: (m.due_on, KIND_ORDER[m.kind]))


def _phase(phase: Phase, start: date) -> list[Planned]:
    end, found = shifted(start, phase.until), []
    for index in range(MAX_PER_PHASE):
        day = _nth(start, phase.start, phase.every, index)
        if day >= end:
            break
        topic = phase.topics[index % len(phase.topics)]
        found.append(Planned(TOPIC, day, topic.title, phase.id, topic.text, topic.reflect))
    return found


def _reviews(track: Track, start: date) -> list[Planned]:
    """Review periods back to back from `start` to the track's end; the last may be shorter."""
    if track.reviews is None:
        return []
    end, found = shifted(start, track.length), []
    for index in range(MAX_PER_PHASE):
        opens = shifted(start, track.reviews.every, index)
        if opens >= end:
            break
        closes = min(shifted(start, track.reviews.every, index + 1), end)
        flag = max(shifted(closes, track.reviews.flag_gaps_before, -1), opens)
        title = f"Review {index + 1}: {opens:%d %b %Y} to {closes - timedelta(days=1):%d %b %Y}"
        found.append(Planned(REVIEW, closes, title, period_start=opens, flag_on=flag))
    return found


def send_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """When a milestone on `day` reaches a reader in `zone`: `at` their local time, as a UTC instant."""
    return due_instant(day, at, zone)
