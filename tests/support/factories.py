"""Builders for test data that go through the real repositories."""

from __future__ import annotations

from datetime import datetime

from bot.kernel.deps import Deps
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
