"""Digest claims (one post per program and week) and the frozen weekly figures digests show."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models.digests import DigestFigure, DigestPost


def claim_digest(
    session: Session, *, program_id: str, week: date, due_at: datetime, now: datetime, worker: str
) -> DigestPost | None:
    """Insert the claim for (program, week); None when another process or an earlier run holds it.

    The insert runs in a savepoint so a lost race leaves the caller's transaction usable.
    """
    post = DigestPost(
        program_id=program_id,
        week=week,
        due_at=due_at,
        status="claimed",
        claimed_at=now,
        claimed_by=worker,
        attempts=1,
        late=False,
        chart_uploaded=False,
    )
    try:
        with session.begin_nested():
            session.add(post)
    except IntegrityError:
        return None
    return post


def reclaim_digest(
    session: Session, *, post_id: int, status: str, claimed_at: datetime, now: datetime, worker: str
) -> bool:
    """Take over a failed or abandoned claim; only one of several racing processes gets True."""
    result = session.execute(
        update(DigestPost)
        .where(DigestPost.id == post_id, DigestPost.status == status, DigestPost.claimed_at == claimed_at)
        .values(status="claimed", claimed_at=now, claimed_by=worker, attempts=DigestPost.attempts + 1)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def renew_digest_claim(session: Session, *, post_id: int, worker: str, now: datetime) -> bool:
    """Compare-and-set before posting: true while `worker` still holds the claim (its lease restarts)."""
    result = session.execute(
        update(DigestPost)
        .where(DigestPost.id == post_id, DigestPost.claimed_by == worker, DigestPost.status == "claimed")
        .values(claimed_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_posted(
    session: Session, *, post_id: int, channel: str, ts: str, now: datetime, late: bool, chart_uploaded: bool
) -> None:
    session.execute(
        update(DigestPost)
        .where(DigestPost.id == post_id)
        .values(
            status="posted",
            channel=channel,
            ts=ts,
            posted_at=now,
            late=late,
            chart_uploaded=chart_uploaded,
            next_attempt_at=None,
            maybe_posted=False,
        )
    )


def record_chart(session: Session, *, post_id: int, uploaded: bool, error: str | None) -> None:
    session.execute(
        update(DigestPost).where(DigestPost.id == post_id).values(chart_uploaded=uploaded, last_error=error)
    )


def mark_failed(
    session: Session,
    *,
    post_id: int,
    worker: str,
    error: str,
    next_attempt_at: datetime,
    failing_since: datetime,
    maybe_posted: bool,
) -> bool:
    """Record a failed attempt and when to try again; false when `worker` no longer holds the claim."""
    result = session.execute(
        update(DigestPost)
        .where(DigestPost.id == post_id, DigestPost.claimed_by == worker, DigestPost.status == "claimed")
        .values(
            status="failed",
            last_error=error[:500],
            next_attempt_at=next_attempt_at,
            failing_since=failing_since,
            maybe_posted=maybe_posted,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def claim_late_notice(session: Session, *, post_id: int, now: datetime) -> bool:
    """Claim telling the coordinators that this digest is late; true for exactly one caller, once."""
    result = session.execute(
        update(DigestPost)
        .where(DigestPost.id == post_id, DigestPost.late_notice_at.is_(None))
        .values(late_notice_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def abandon_digest(session: Session, *, post_id: int, status: str, claimed_at: datetime) -> bool:
    """Stop retrying a week whose next digest is due; true for the one caller that did it."""
    result = session.execute(
        update(DigestPost)
        .where(DigestPost.id == post_id, DigestPost.status == status, DigestPost.claimed_at == claimed_at)
        .values(status="abandoned", next_attempt_at=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def digest_posts(session: Session, *, program_id: str, since: date) -> list[DigestPost]:
    """The program's claims for weeks from `since` on, oldest first."""
    query = select(DigestPost).where(DigestPost.program_id == program_id, DigestPost.week >= since)
    return list(session.scalars(query.order_by(DigestPost.week)))


def digest_post(session: Session, *, program_id: str, week: date) -> DigestPost | None:
    query = select(DigestPost).where(DigestPost.program_id == program_id, DigestPost.week == week)
    return session.scalars(query).one_or_none()


def last_claimed_week(session: Session, *, program_id: str) -> date | None:
    return session.scalar(select(func.max(DigestPost.week)).where(DigestPost.program_id == program_id))


@dataclass(frozen=True)
class FrozenFigure:
    week: date
    metric: str
    grp: str
    n: int
    total: int
    shown: bool
    reason: str


def frozen_figures(session: Session, *, program_id: str, first: date, last: date) -> list[FrozenFigure]:
    """Figures already frozen for weeks first..last (Mondays, inclusive)."""
    query = select(DigestFigure).where(
        and_(DigestFigure.program_id == program_id, DigestFigure.week >= first, DigestFigure.week <= last)
    )
    return [
        FrozenFigure(row.week, row.metric, row.grp, row.n, row.total, row.shown, row.reason)
        for row in session.scalars(query)
    ]


def freeze_figures(
    session: Session, *, program_id: str, figures: Iterable[FrozenFigure], now: datetime
) -> None:
    """Insert figures not yet frozen; a figure another process froze first is left as it is."""
    rows = [
        {
            "program_id": program_id,
            "week": f.week,
            "metric": f.metric,
            "grp": f.grp,
            "n": f.n,
            "total": f.total,
            "shown": f.shown,
            "reason": f.reason,
            "frozen_at": now,
        }
        for f in figures
    ]
    if not rows:
        return
    bind = session.get_bind()
    insert = pg_insert if bind.dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(DigestFigure).on_conflict_do_nothing(), rows)
