"""privacy.retention_days for ideas: an idea idle past the cutoff loses its working notes.

Its observation, the planned change, every PDSA step's text and the pair's comments are cleared; its
one-line summary, stage and dates stay, so an adopted change still counts in the digest and the report
and, when its author shared it, is still listed. An idea is idle when nothing was recorded on it (a
step or a comment) since before the cutoff and no planned test falls on or after the cutoff's day.

Unlike check-ins and concerns, ideas are not taken from the purge's week window: which ideas are due
is decided by their state (some text not yet cleared), so an idea that went idle long before the last
run is still cleared, and one already cleared is neither counted nor written again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, select, update
from sqlalchemy.orm import Session

from storage.models import Idea, IdeaComment, IdeaCycle

IDEA_TABLES = ["ideas", "idea_cycles", "idea_comments"]
CLEARED = "[removed after "  # how every marker the purge writes begins, whatever the days were
CHUNK = 500


def idle_ideas(*, program_id: str, cutoff: datetime, tz: ZoneInfo) -> Select[int]:
    """Ideas of the program not updated since before the cutoff and with no test still ahead of it."""
    test_ahead = exists().where(
        IdeaCycle.idea_id == Idea.id,
        IdeaCycle.done_at.is_(None),
        IdeaCycle.test_date >= cutoff.astimezone(tz).date(),
    )
    return select(Idea.id).where(Idea.program_id == program_id, Idea.updated_at < cutoff, ~test_ahead)


def ideas_to_clear(
    session: Session, *, program_id: str, cutoff: datetime, tz: ZoneInfo, lock: bool = False
) -> list[int]:
    """The idle ideas that still hold some text not cleared yet (decrypted here, so checked in Python).

    With `lock`, the ideas' rows are locked first: a step or comment saved meanwhile updates the idea, so
    it either waits for this purge to commit or, having committed first, takes the idea out of it.
    """
    query = idle_ideas(program_id=program_id, cutoff=cutoff, tz=tz)
    idle = list(session.scalars(query.with_for_update() if lock else query))
    return sorted(idea_id for chunk in _chunks(idle) for idea_id in _holding_text(session, chunk))


def _holding_text(session: Session, ids: Sequence[int]) -> set[int]:
    rows = [
        *session.execute(select(Idea.id, Idea.observation, Idea.change).where(Idea.id.in_(ids))),
        *session.execute(
            select(
                IdeaCycle.idea_id,
                IdeaCycle.prediction,
                IdeaCycle.measure,
                IdeaCycle.scope,
                IdeaCycle.happened,
                IdeaCycle.result,
                IdeaCycle.decision_notes,
            ).where(IdeaCycle.idea_id.in_(ids))
        ),
        *session.execute(select(IdeaComment.idea_id, IdeaComment.text).where(IdeaComment.idea_id.in_(ids))),
    ]
    return {int(row[0]) for row in rows if any(_uncleared(value) for value in row[1:])}


def _uncleared(value: str | None) -> bool:
    return value is not None and not value.startswith(CLEARED)


def clear_idea_text(session: Session, ids: Sequence[int], *, removed: str) -> int:
    """Blank the working notes of the ideas `ids` (NOT NULL columns get the `removed` marker); how many."""
    planned = {"prediction": removed, "measure": removed, "scope": removed}
    learned = {"happened": None, "result": None, "decision_notes": None}
    for chunk in _chunks(ids):
        session.execute(update(Idea).where(Idea.id.in_(chunk)).values(observation=removed, change=removed))
        session.execute(update(IdeaCycle).where(IdeaCycle.idea_id.in_(chunk)).values(**planned, **learned))
        session.execute(update(IdeaComment).where(IdeaComment.idea_id.in_(chunk)).values(text=removed))
    return len(ids)


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]
