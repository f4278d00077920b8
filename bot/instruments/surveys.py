"""Which instrument surveys are due: pure functions of the program, its pairs and `now`.

A survey goes out at the program's check-in `local_time` in the mentee's own timezone (their working
day, like check-ins), on:
- `cadence: monthly`: the first check-in weekday of each calendar month;
- `cadence: quarterly`: the first check-in weekday of January, April, July and October;
- `pair_months: [3, 12]`: the day N calendar months after the pair started (clamped to the month's
  end), once per pair: a mentee with two mentors rates each.
A survey whose instant passed while the bot was down is still sent within GRACE; older ones, and those
due before the mentee's pair started, are not sent at all. The claim key's period names the calendar
period ("2026-12", "2026-Q4") or the pair's month ("pair-17-m3").

An answer is filed under `answer_period`: the calendar period as it is, or, for a pair's month, the
month without the pair and with the calendar quarter (UTC) the survey was sent in ("m3 2026-Q4"), so
that pair-month answers are released in batches of a quarter (bot.instruments.release) rather than one
pair at a time. A period closes `closes_at`: its end (00:00 UTC after its last day) plus GRACE. A
survey is sent no later than its period's end, so it can be answered for at least GRACE, and for
at most ANSWER_WINDOW after it was due.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.instruments.catalog import Instrument
from bot.instruments.config import problem_of
from bot.kernel.clock import zone_of
from bot.kernel.programs import InstrumentSchedule, Program
from storage.repositories.instruments import PairRow

GRACE = timedelta(days=7)
ANSWER_WINDOW = 4 * GRACE  # how long after its due instant a survey may be answered, at most


@dataclass(frozen=True)
class Due:
    program_id: str
    person_id: str
    instrument_id: str
    period: str  # the claim's key
    bucket: str  # the series an answer belongs to ("m3" for a pair's month): no pair, no person
    pair_id: int | None
    due_at: datetime


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later, or the month's last day when it has no such day."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def period_start(cadence: str, day: date) -> tuple[str, date]:
    """The calendar period holding `day`: its label and its first day."""
    if cadence == "quarterly":
        quarter = (day.month - 1) // 3
        return f"{day.year}-Q{quarter + 1}", date(day.year, quarter * 3 + 1, 1)
    return f"{day.year}-{day.month:02d}", date(day.year, day.month, 1)


def calendar_instants(
    program: Program, cadence: str, zone: ZoneInfo, now: datetime
) -> list[tuple[str, datetime]]:
    """(period, due instant) of the period holding `now` and the one before, in the mentee's zone."""
    checkins = program.checkins
    current = now.astimezone(zone).date()
    found = []
    for day in (current, period_start(cadence, current)[1] - timedelta(days=1)):
        label, first = period_start(cadence, day)
        first_weekday = first + timedelta(days=(checkins.weekday_index - first.weekday()) % 7)
        found.append((label, local_instant(first_weekday, checkins.local_time, zone)))
    return found


def in_window(due_at: datetime, *, since: datetime, now: datetime) -> bool:
    """Due by now, not before the pair began, and not older than GRACE."""
    return since <= due_at <= now and now - due_at <= GRACE


def calendar_due(
    program: Program, schedule: InstrumentSchedule, pairs: Sequence[PairRow], now: datetime
) -> Iterator[Due]:
    """One survey per mentee per calendar period, from the mentee's first active pair on."""
    first_pair: dict[str, PairRow] = {}
    for pair in pairs:
        if pair.mentee_id not in first_pair or pair.started_at < first_pair[pair.mentee_id].started_at:
            first_pair[pair.mentee_id] = pair
    for mentee_id, pair in first_pair.items():
        zone = zone_of(pair.timezone, program.timezone)
        for period, due_at in calendar_instants(program, schedule.cadence or "monthly", zone, now):
            if in_window(due_at, since=pair.started_at, now=now):
                yield Due(program.id, mentee_id, schedule.id, period, period, None, due_at)


def pair_due(
    program: Program, schedule: InstrumentSchedule, pairs: Sequence[PairRow], now: datetime
) -> Iterator[Due]:
    """One survey per pair at each of `pair_months` months into it."""
    for pair in pairs:
        zone = zone_of(pair.timezone, program.timezone)
        start = pair.started_at.astimezone(zone).date()
        for months in schedule.pair_months:
            due_at = local_instant(add_months(start, months), program.checkins.local_time, zone)
            if in_window(due_at, since=pair.started_at, now=now):
                period = f"pair-{pair.pair_id}-m{months}"
                yield Due(program.id, pair.mentee_id, schedule.id, period, f"m{months}", pair.pair_id, due_at)


def surveys_due(
    program: Program, pairs: Sequence[PairRow], now: datetime, catalogue: dict[str, Instrument]
) -> list[Due]:
    """Every survey of the program due at `now`; entries the catalogue refuses (see config) are skipped."""
    due: list[Due] = []
    for schedule in program.instruments:
        if problem_of(schedule, catalogue) is not None:
            continue
        found = pair_due if schedule.pair_months else calendar_due
        due.extend(found(program, schedule, pairs, now))
    return due


def answer_period(claim_period: str, sent_at: datetime) -> str:
    """What a claim's answer is filed under: "2026-12" as is; "pair-17-m3" sent in December: "m3 2026-Q4"."""
    if not claim_period.startswith("pair-"):
        return claim_period
    quarter, _ = period_start("quarterly", sent_at.astimezone(UTC).date())
    return f"{claim_period.rsplit('-', 1)[1]} {quarter}"


def period_end(period: str) -> datetime:
    """00:00 UTC after the last day of an answer period ("2026-12", "2026-Q4", "m3 2026-Q4")."""
    year, part = period.rsplit(" ", 1)[-1].split("-")
    if part.startswith("Q"):
        end = add_months(date(int(year), (int(part[1:]) - 1) * 3 + 1, 1), 3)
    else:
        end = add_months(date(int(year), int(part), 1), 1)
    return datetime.combine(end, time(0), tzinfo=UTC)


def closes_at(period: str) -> datetime:
    """When an answer period closes: its answers are released then, and later ones are not taken."""
    return period_end(period) + GRACE
