"""People the bot knows: Slack ids with cached names and timezones."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Person


def get_person(session: Session, *, user_id: str) -> Person | None:
    return session.get(Person, user_id)


def upsert_person(
    session: Session,
    *,
    user_id: str,
    now: datetime,
    display_name: str | None = None,
    real_name: str | None = None,
    timezone: str | None = None,
    email: str | None = None,
    refreshed: bool = False,
) -> Person:
    """Create the person if new; overwrite only the fields given."""
    person = session.get(Person, user_id)
    if person is None:
        person = Person(id=user_id, display_name="", real_name="", first_seen_at=now, active=True)
        session.add(person)
    if display_name is not None:
        person.display_name = display_name[:120]
    if real_name is not None:
        person.real_name = real_name[:120]
    if timezone is not None:
        person.timezone = timezone
    if email is not None:
        person.email = email.lower()[:254] or None
    if refreshed:
        person.refreshed_at = now
    return person


def people_by_id(session: Session, *, user_ids: Iterable[str]) -> dict[str, Person]:
    """The known people among `user_ids`, keyed by id (one query, chunked for long lists)."""
    wanted = sorted(set(user_ids))
    found: dict[str, Person] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update({p.id: p for p in session.scalars(select(Person).where(Person.id.in_(chunk)))})
    return found


def people_by_email(session: Session, *, emails: Iterable[str]) -> dict[str, Person]:
    """Known people by lower-cased email; an email two rows share (an old account) maps to the fresher."""
    wanted = sorted({e.lower() for e in emails})
    found: dict[str, Person] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = select(Person).where(Person.email.in_(chunk)).order_by(Person.refreshed_at)
        found.update({p.email: p for p in session.scalars(query) if p.email})
    return found
