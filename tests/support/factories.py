"""Builders for test data that go through the real repositories."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select

from bot.kernel.deps import Deps
from storage.models import Pair, Person
from storage.repositories.pairs import create_pair
from storage.repositories.people import upsert_person
from tests.support.people import USERS

TIMEZONES = {u.id: u.tz for u in USERS}
NAMES = {u.id: u.real_name for u in USERS}


def add_person(deps: Deps, user_id: str, *, now: datetime | None = None, tz: str | None = None) -> None:
    """A person row as if users.info had been read (timezone from the fake's user list)."""
    now = now or deps.clock()
    with deps.sessions.begin() as session:
        upsert_person(
            session,
            user_id=user_id,
            now=now,
            display_name=NAMES.get(user_id, user_id).split()[0],
            real_name=NAMES.get(user_id, user_id),
            timezone=tz or TIMEZONES.get(user_id),
            refreshed=True,
        )


def make_pair(
    deps: Deps,
    mentor_id: str = "U0MENTOR1",
    mentee_id: str = "U0MENTEE1",
    *,
    program_id: str = "img-2026",
    started_at: datetime | None = None,
    mentee_tz: str | None = None,
) -> int:
    """An active pair (people created as needed); returns the pair id."""
    started_at = started_at or deps.clock()
    add_person(deps, mentor_id, now=started_at)
    add_person(deps, mentee_id, now=started_at, tz=mentee_tz)
    with deps.sessions.begin() as session:
        pair = create_pair(
            session, program_id=program_id, mentor_id=mentor_id, mentee_id=mentee_id, now=started_at
        )
        return pair.id


def make_pairs(
    deps: Deps,
    pairs: Sequence[tuple[str, str]],
    *,
    program_id: str = "img-2026",
    started_at: datetime | None = None,
) -> list[int]:
    """Many active (mentor, mentee) pairs in bulk inserts, people named after their ids; pair ids in order.

    For surfaces at ten times their usual size: a thousand pairs take a fraction of a second.
    """
    started_at = started_at or deps.clock()
    with deps.sessions.begin() as session:
        wanted = list(dict.fromkeys(user_id for pair in pairs for user_id in pair))
        known = set(session.scalars(select(Person.id).where(Person.id.in_(wanted))))
        people = [_person_row(user_id, started_at) for user_id in wanted if user_id not in known]
        if people:
            session.execute(insert(Person), people)
        rows = [
            {"program_id": program_id, "mentor_id": mentor, "mentee_id": mentee, "started_at": started_at}
            for mentor, mentee in pairs
        ]
        first = session.scalar(select(Pair.id).order_by(Pair.id.desc()).limit(1)) or 0
        session.execute(insert(Pair), rows)
        query = select(Pair.id).where(Pair.id > first, Pair.program_id == program_id).order_by(Pair.id)
        return list(session.scalars(query))


def _person_row(user_id: str, now: datetime) -> dict[str, object]:
    name = NAMES.get(user_id, user_id)
    return {
        "id": user_id,
        "display_name": name.split()[0],
        "real_name": name,
        "timezone": TIMEZONES.get(user_id),
        "active": True,
        "first_seen_at": now,
        "refreshed_at": now,
    }
