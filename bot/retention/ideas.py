"""privacy.retention_days for ideas: an idea idle past the cutoff loses its working notes.

Its observation, the planned change, every PDSA step's text and the pair's comments are cleared; its
one-line summary, stage and dates stay, so an adopted change still counts in the digest and the report
and, when its author shared it, is still listed. An idea counts as idle from its last update, taken
week by week like concerns, so a pair still working on it keeps everything.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.orm import Session

from storage.models import Idea, IdeaComment, IdeaCycle

IDEA_TABLES = ["ideas", "idea_cycles", "idea_comments"]


def idle_ideas(
    *, program_id: str, since: date | None, before: date, cutoff: datetime, tz: ZoneInfo
) -> Select[int]:
    """Ideas of the program last updated in the weeks [since, before), and before the cutoff."""
    clauses: list[ColumnElement[bool]] = [
        Idea.program_id == program_id,
        Idea.updated_at < min(cutoff, datetime.combine(before, time(0), tzinfo=tz)),
    ]
    if since is not None:
        clauses.append(Idea.updated_at >= datetime.combine(since, time(0), tzinfo=tz))
    return select(Idea.id).where(*clauses)


def count_idle(session: Session, ideas: Select[int]) -> int:
    return int(session.scalar(select(func.count()).select_from(ideas.subquery())) or 0)


def clear_idea_text(session: Session, ideas: Select[int], *, removed: str) -> int:
    """Blank the working notes of `ideas` (NOT NULL columns get the `removed` marker); how many ideas."""
    count = count_idle(session, ideas)
    ids = ideas.scalar_subquery()
    session.execute(update(Idea).where(Idea.id.in_(ids)).values(observation=removed, change=removed))
    planned = {"prediction": removed, "measure": removed, "scope": removed}
    learned = {"happened": None, "result": None, "decision_notes": None}
    session.execute(update(IdeaCycle).where(IdeaCycle.idea_id.in_(ids)).values(**planned, **learned))
    session.execute(update(IdeaComment).where(IdeaComment.idea_id.in_(ids)).values(text=removed))
    return count
