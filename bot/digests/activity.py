"""The operational half of the digest: routine concerns and pair health for one week, in SQL.

Escalated concerns (those involving the sender's mentor or a coordinator) never appear here, not
even as a count: they go to the escalation contact only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, case, desc, func, select, true
from sqlalchemy.orm import Session

from bot.kernel.people import short_name
from bot.kernel.programs import Program
from bot.kernel.sql_dates import day_of_date, median_from_histogram
from bot.reflections.health import OverduePair, overdue_pairs
from storage.models import CompetencyObservation, Concern, MentoringSession, Reflection
from storage.repositories.people import people_by_id

OPEN_STATUSES = ("open", "acknowledged")
STALE_AFTER = timedelta(days=14)
WEEK = timedelta(days=7)
REPLY_WINDOW = timedelta(weeks=8)
MAX_CONCERN_TEXTS = 20
TOP_TOPICS = 5
MAX_OVERDUE_NAMED = 15


@dataclass(frozen=True)
class ConcernItem:
    category: str
    text: str


@dataclass(frozen=True)
class ConcernStats:
    new_by_category: dict[str, int]
    new_urgent: int  # already sent to the coordinators at once; counted, their text not repeated
    new_items: list[ConcernItem]  # routine ones with their text, at most MAX_CONCERN_TEXTS
    open_over_14_days: int
    median_days_to_first_reply: float | None  # concerns of the last 8 weeks that have a reply
    replied: int


@dataclass(frozen=True)
class OverdueLine:
    mentor: str
    mentee: str
    days_since: int
    last_session: date | None


@dataclass(frozen=True)
class Highlight:
    text: str
    author: str  # a name when the author allowed it, else "a mentor" / "a mentee"


@dataclass(frozen=True)
class PairStats:
    overdue: list[OverdueLine]  # the longest-overdue MAX_OVERDUE_NAMED pairs, by name
    overdue_total: int
    sessions_logged: int
    confirmed_minutes: int
    top_topics: list[tuple[str, int]]
    competencies: list[tuple[str, int]]
    highlight: Highlight | None


def _routine(program_id: str) -> list[ColumnElement[bool]]:
    return [Concern.program_id == program_id, Concern.escalated.is_(False)]


def concern_stats(session: Session, *, program_id: str, week: date) -> ConcernStats:
    """Concerns (not escalated) that arrived in `week` with the text of the routine ones, those still open
    after 14 days, and how fast coordinators first replied."""
    new = [*_routine(program_id), Concern.week == week]
    by_category = session.execute(
        select(Concern.category, func.count())
        .where(*new)
        .group_by(Concern.category)
        .order_by(Concern.category)
    )
    texts = session.execute(
        select(Concern.category, Concern.text)
        .where(*new, Concern.urgent.is_(False))
        .order_by(Concern.category, Concern.id)
        .limit(MAX_CONCERN_TEXTS)
    )
    urgent = session.scalar(select(func.count()).where(*new, Concern.urgent.is_(True)))
    stale = session.scalar(
        select(func.count()).where(
            *_routine(program_id), Concern.status.in_(OPEN_STATUSES), Concern.week < week + WEEK - STALE_AFTER
        )
    )
    counts = _days_to_first_reply(session, program_id=program_id, week=week)
    return ConcernStats(
        new_by_category={category: int(n) for category, n in by_category},
        new_urgent=int(urgent or 0),
        new_items=[ConcernItem(category, text) for category, text in texts],
        open_over_14_days=int(stale or 0),
        median_days_to_first_reply=median_from_histogram(counts),
        replied=sum(n for _, n in counts),
    )


def _days_to_first_reply(session: Session, *, program_id: str, week: date) -> list[tuple[int, int]]:
    """(days, how many) for the replied concerns of the 8 weeks up to `week`, from their arrival Monday."""
    days = (day_of_date(Concern.first_reply_on) - day_of_date(Concern.week)).label("days")
    histogram = session.execute(
        select(days, func.count())
        .where(*_routine(program_id), Concern.first_reply_on.is_not(None))
        .where(Concern.week > week - REPLY_WINDOW, Concern.week <= week)
        .group_by(days)
    )
    return [(int(d), int(n)) for d, n in histogram]


def _sessions_in(program_id: str, week: date) -> list[ColumnElement[bool]]:
    return [
        MentoringSession.program_id == program_id,
        MentoringSession.session_date >= week,
        MentoringSession.session_date < week + timedelta(days=7),
    ]


def pair_stats(session: Session, *, program: Program, week: date, now: datetime) -> PairStats:
    """Overdue pairs (by name: this part is operational), sessions, hours, topics, competencies."""
    logged, minutes = session.execute(
        select(
            func.count(),
            func.coalesce(
                func.sum(case((MentoringSession.status == "confirmed", MentoringSession.duration_minutes))), 0
            ),
        ).where(*_sessions_in(program.id, week), MentoringSession.status != "disputed")
    ).one()
    pairs = overdue_pairs(session, program=program, now=now)
    return PairStats(
        overdue=_named(session, sorted(pairs, key=lambda p: -p.days_since)[:MAX_OVERDUE_NAMED]),
        overdue_total=len(pairs),
        sessions_logged=int(logged),
        confirmed_minutes=int(minutes),
        top_topics=_top_topics(session, program_id=program.id, week=week),
        competencies=_competencies(session, program_id=program.id, week=week),
        highlight=_highlight(session, program_id=program.id, week=week),
    )


def _named(session: Session, pairs: list[OverduePair]) -> list[OverdueLine]:
    names = people_by_id(
        session, user_ids=sorted({p.mentor_id for p in pairs} | {p.mentee_id for p in pairs})
    )

    def name(user_id: str) -> str:
        person = names.get(user_id)
        return short_name(person, user_id)

    return [OverdueLine(name(p.mentor_id), name(p.mentee_id), p.days_since, p.last_session) for p in pairs]


def _topic_values(session: Session) -> Select[tuple[str]]:
    """The topics of each reflection as rows: json_each on SQLite, json_array_elements_text on PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.json_array_elements_text(Reflection.topics).table_valued("value")  # type: ignore[return-value]
    return func.json_each(Reflection.topics).table_valued("value")  # type: ignore[return-value]


def _top_topics(session: Session, *, program_id: str, week: date) -> list[tuple[str, int]]:
    topic = _topic_values(session)
    value = topic.c.value  # type: ignore[attr-defined]
    count = func.count().label("n")
    query = (
        select(value, count)
        .select_from(Reflection)
        .join(MentoringSession, MentoringSession.id == Reflection.session_id)
        .join(topic, true())  # type: ignore[arg-type]
        .where(*_sessions_in(program_id, week), MentoringSession.status != "disputed")
        .group_by(value)
        .order_by(desc(count), value)
        .limit(TOP_TOPICS)
    )
    return [(str(name), int(n)) for name, n in session.execute(query)]


def _competencies(session: Session, *, program_id: str, week: date) -> list[tuple[str, int]]:
    count = func.count().label("n")
    query = (
        select(CompetencyObservation.competency, count)
        .join(MentoringSession, MentoringSession.id == CompetencyObservation.session_id)
        .where(
            CompetencyObservation.program_id == program_id,
            CompetencyObservation.level == "demonstrated",
            CompetencyObservation.observed_on >= week,
            CompetencyObservation.observed_on < week + timedelta(days=7),
            MentoringSession.status == "confirmed",
        )
        .group_by(CompetencyObservation.competency)
        .order_by(desc(count), CompetencyObservation.competency)
    )
    return [(str(name), int(n)) for name, n in session.execute(query)]


def _highlight(session: Session, *, program_id: str, week: date) -> Highlight | None:
    """One 'what I learned' the author agreed to share; a mentor's learning from a mentee comes first."""
    query = (
        select(Reflection.learned, Reflection.author_role, Reflection.share_named, Reflection.author_id)
        .join(MentoringSession, MentoringSession.id == Reflection.session_id)
        .where(
            *_sessions_in(program_id, week),
            MentoringSession.status != "disputed",
            Reflection.share_learned.is_(True),
            Reflection.learned.is_not(None),
        )
        .order_by(desc(Reflection.author_role == "mentor"), desc(Reflection.created_at), Reflection.id)
        .limit(1)
    )
    row = session.execute(query).first()
    if row is None or not (row.learned or "").strip():
        return None
    author = f"a {row.author_role}"
    if row.share_named:
        person = people_by_id(session, user_ids=[row.author_id]).get(row.author_id)
        author = short_name(person, author)
    return Highlight(text=row.learned.strip(), author=author)
