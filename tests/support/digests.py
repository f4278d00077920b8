"""Seeding helpers shared by the digest, suppression and report tests (this module holds no tests).

Rows go in directly through the models of the check-in, concern and reflection features, as those
features would have stored them: a team-climate answer encrypted beside its check-in
(bot.checkins.climate.answer_fields) until `close_climate` moves the weeks past their cutoff out, as
the tick does before a digest is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import count

from sqlalchemy.orm import Session

from bot.checkins.climate import Closed, answer_fields, close_due
from bot.kernel.deps import Deps
from storage.models import (
    Checkin,
    CheckinAnswer,
    CompetencyObservation,
    Concern,
    MentoringSession,
    Reflection,
)
from storage.repositories.people import upsert_person
from tests.support.factories import make_pair

PROGRAM = "img-2026"
# Mondays of the weeks used throughout: the clock fixture stands on Monday 23 Nov 2026, 14:00 UTC,
# one hour after the img-2026 digest for the week of 16 Nov was due (08:00 New York).
WEEK = date(2026, 11, 16)
LAST_WEEK = WEEK - timedelta(days=7)
DUE = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
_ids = count(1)


def mentee_ids(n: int) -> list[str]:
    return [f"U0ME{i:04d}" for i in range(1, n + 1)]


def add_people(deps: Deps, ids: list[str], *, names: dict[str, str] | None = None) -> None:
    with deps.sessions.begin() as session:
        for user_id in ids:
            name = (names or {}).get(user_id, f"Person {user_id[-4:]}")
            upsert_person(session, user_id=user_id, now=DUE - timedelta(days=200), real_name=name)


def add_checkin(
    session: Session,
    *,
    mentee: str,
    week: date,
    answer: tuple[int | None, int | None, bool | None] | None = None,
    psych_item: int = 2,
    status: str | None = None,
    answered_at: datetime | None = None,
    program_id: str = PROGRAM,
) -> None:
    """A Thursday check-in of `week` for `mentee`; `answer` is (wellbeing, psych as answered, met mentor)."""
    period = week + timedelta(days=3)
    due = datetime.combine(period, time(21, 0), tzinfo=UTC)
    checkin = Checkin(
        program_id=program_id,
        mentee_id=mentee,
        period=period,
        due_at=due,
        expires_at=due + timedelta(hours=96),
        status=status or ("answered" if answer else "expired"),
        psych_item=psych_item,
        claimed_at=due,
        claimed_by="test",
        sent_at=None if status in ("paused", "missed") else due,
        attempts=1,
    )
    session.add(checkin)
    session.flush()
    if answer is not None:
        wellbeing, psych, met = answer
        at = answered_at or due + timedelta(hours=2)
        session.add(
            CheckinAnswer(
                checkin_id=checkin.id,
                wellbeing=wellbeing,
                met_mentor=met,
                note="free text that must never reach a digest",
                answered_at=at,
                updated_at=at,
                **answer_fields(psych),
            )
        )


def close_climate(deps: Deps) -> list[Closed]:
    """Close the team-climate answers of every week whose cutoff is past at the clock, as the tick does."""
    return close_due(deps, deps.clock())


Answer = tuple[int | None, int | None, bool | None]


def answer_week(
    deps: Deps,
    week: date,
    answers: Mapping[str, Answer],
    *,
    silent: Sequence[str] = (),
    program_id: str = PROGRAM,
) -> None:
    with deps.sessions.begin() as session:
        for mentee, answer in answers.items():
            add_checkin(session, mentee=mentee, week=week, answer=answer, program_id=program_id)
        for mentee in silent:
            add_checkin(session, mentee=mentee, week=week, program_id=program_id)
    close_climate(deps)


def add_concern(
    deps: Deps,
    *,
    week: date,
    category: str,
    text: str,
    escalated: bool = False,
    urgent: bool = False,
    status: str = "open",
    first_reply_on: date | None = None,
    resolved_on: date | None = None,
    program_id: str = PROGRAM,
) -> None:
    with deps.sessions.begin() as session:
        session.add(
            Concern(
                program_id=program_id,
                category=category,
                urgent=urgent,
                escalated=escalated,
                text=text,
                week=week,
                status=status,
                key_hash=f"{next(_ids):064d}",
                replies_allowed=True,
                first_reply_on=first_reply_on,
                resolved_on=resolved_on,
            )
        )


def add_session(
    deps: Deps,
    *,
    pair_id: int,
    mentor: str,
    mentee: str,
    day: date,
    minutes: int = 60,
    status: str = "confirmed",
    topics: list[str] | None = None,
    learned: str | None = None,
    share: str = "private",
    competencies: dict[str, str] | None = None,
    program_id: str = PROGRAM,
) -> int:
    """A session logged by the mentor, its reflection, and competency observations."""
    logged = datetime.combine(day, time(18, 0), tzinfo=UTC)
    with deps.sessions.begin() as session:
        row = MentoringSession(
            pair_id=pair_id,
            program_id=program_id,
            session_date=day,
            duration_minutes=minutes,
            format="in_person",
            logged_by=mentor,
            logged_at=logged,
            status=status,
            confirmed_by=mentee if status == "confirmed" else None,
            confirmed_at=logged + timedelta(hours=3) if status == "confirmed" else None,
        )
        session.add(row)
        session.flush()
        session.add(
            Reflection(
                session_id=row.id,
                author_id=mentor,
                author_role="mentor",
                topics=topics or [],
                learned=learned,
                share_learned=share != "private",
                share_named=share == "named",
                created_at=logged,
            )
        )
        for competency, level in (competencies or {}).items():
            session.add(
                CompetencyObservation(
                    session_id=row.id,
                    program_id=program_id,
                    mentee_id=mentee,
                    competency=competency,
                    level=level,
                    observed_on=day,
                )
            )
        return row.id


def pair_up(deps: Deps, mentor: str, mentee: str, *, started: datetime | None = None) -> int:
    return make_pair(deps, mentor, mentee, started_at=started or DUE - timedelta(days=120))
