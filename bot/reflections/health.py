"""Pair health: active pairs overdue for a confirmed session, for the digest and the App Home."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from bot.kernel.programs import Program
from storage.models import Pair
from storage.repositories.reflections import last_confirmed_by_pair, overdue_pair_rows


@dataclass(frozen=True)
class OverduePair:
    pair_id: int
    program_id: str
    mentor_id: str
    mentee_id: str
    last_session: date | None  # last confirmed session
    days_since: int  # since the last confirmed session, or since the pair started


def overdue_pairs(session: Session, *, program: Program, now: datetime) -> list[OverduePair]:
    """Active pairs with no confirmed session for longer than program.pairs.session_expected_every_days.

    Days are counted in the program's timezone; the most overdue come first.
    """
    today = now.astimezone(program.tz).date()
    cutoff = today - timedelta(days=program.pairs.session_expected_every_days)
    # "Started before the cutoff day" in the program's timezone, as an instant the database can compare.
    started_before = datetime.combine(cutoff, time(0), tzinfo=program.tz).astimezone(UTC)
    rows = overdue_pair_rows(
        session, program_id=program.id, last_before=cutoff, started_before=started_before
    )
    found = [
        OverduePair(
            pair.id,
            pair.program_id,
            pair.mentor_id,
            pair.mentee_id,
            last_day,
            (today - (last_day or pair.started_at.astimezone(program.tz).date())).days,
        )
        for pair, last_day in rows
    ]
    return sorted(found, key=lambda item: (-item.days_since, item.pair_id))


def overdue_among(
    session: Session, *, program: Program, pairs: list[Pair], now: datetime
) -> list[OverduePair]:
    """The overdue ones among `pairs` (the App Home's own pairs), most overdue first."""
    today = now.astimezone(program.tz).date()
    last = last_confirmed_by_pair(session, pair_ids=[p.id for p in pairs])
    found = []
    for pair in pairs:
        since = last.get(pair.id) or pair.started_at.astimezone(program.tz).date()
        days = (today - since).days
        if days > program.pairs.session_expected_every_days:
            found.append(
                OverduePair(pair.id, pair.program_id, pair.mentor_id, pair.mentee_id, last.get(pair.id), days)
            )
    return sorted(found, key=lambda item: (-item.days_since, item.pair_id))
