"""`/checkin pause 2w`, `/checkin pause until 2026-12-01`, `/checkin resume`: reading and applying pauses."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.checkins.schedule import local_label
from bot.kernel.refusals import Refusal
from storage.repositories import checkins as repo

MAX_PAUSE = timedelta(days=366)
HOME_PAUSE = timedelta(weeks=2)
USAGE = (
    "Try `/checkin pause 2w`, `/checkin pause 10d`, `/checkin pause until 2026-12-01` or `/checkin resume`."
)
_DURATION = re.compile(r"(\d{1,3})\s*(d|day|days|w|wk|wks|week|weeks)")


class PauseError(Refusal):
    """The pause request cannot be read; the message says what to type instead."""


def parse_pause(words: list[str], *, now: datetime, zone: ZoneInfo) -> datetime | None:
    """The end of the requested pause (None: until resumed), from the words after `pause`."""
    if not words:
        return None
    text = " ".join(words).lower()
    if words[0].lower() == "until":
        return _until_date(" ".join(words[1:]), now=now, zone=zone)
    match = _DURATION.fullmatch(text)
    if match is None:
        raise PauseError(f"I couldn't read `pause {text[:40]}`. {USAGE}")
    count, unit = int(match[1]), match[2]
    length = timedelta(weeks=count) if unit.startswith("w") else timedelta(days=count)
    if not timedelta(days=1) <= length <= MAX_PAUSE:
        raise PauseError(f"A pause can last from 1 day to a year. {USAGE}")
    return now + length


def _until_date(text: str, *, now: datetime, zone: ZoneInfo) -> datetime:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise PauseError(f"`{text[:20]}` is not a date like 2026-12-01. {USAGE}") from None
    # The pause ends as that day starts for the mentee, so a check-in due that day is sent.
    until = datetime.combine(day, time(0, 0), tzinfo=zone)
    if until <= now:
        raise PauseError(f"{day.isoformat()} is not in the future. {USAGE}")
    if until - now > MAX_PAUSE:
        raise PauseError(f"A pause can last up to a year. {USAGE}")
    return until


def pause(session: Session, *, person_id: str, now: datetime, until: datetime | None, zone: ZoneInfo) -> str:
    """Pause the person's check-ins; returns the confirmation to show them."""
    repo.set_pause(session, person_id=person_id, now=now, until=until)
    if until is None:
        return "Check-ins are paused until you type `/checkin resume`. Paused weeks don't count as missed."
    return (
        f"Check-ins are paused until {local_label(until, zone)} your time. "
        "Paused weeks don't count as missed; type `/checkin resume` to restart sooner."
    )


def resume(session: Session, *, person_id: str, now: datetime) -> str:
    """End the person's pause; returns the confirmation to show them."""
    if not repo.end_pause(session, person_id=person_id, now=now):
        return "Your check-ins are not paused, so there is nothing to resume."
    return "Check-ins resumed. Your next one will come at the usual time."


def pause_line(session: Session, *, person_id: str, now: datetime, zone: ZoneInfo) -> str | None:
    """'Check-ins are paused until …' while a pause is active, else None."""
    current = repo.get_pause(session, person_id=person_id)
    if current is None or current.paused_at > now:
        return None
    if current.paused_until is None:
        return "Your check-ins are paused until you resume them."
    if current.paused_until <= now:
        return None
    return f"Your check-ins are paused until {local_label(current.paused_until, zone)} your time."
