"""Team-climate helpers: a week of check-ins answered through the real answer service, and file reading.

The check-ins are those of tests.support.digests (Thursday of WEEK, 21:00 UTC, open 96 hours, so
still open when the week's cutoff passes on Monday 13:00 UTC); the answers go through
bot.checkins.answers.record_answer, so they are stored exactly as a mentee's modal stores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.fernet import InvalidToken
from sqlalchemy import select, text

from bot.checkins.answers import ModalAnswer, record_answer
from bot.kernel.deps import Deps
from storage.models import Checkin
from tests.support.digests import PROGRAM, WEEK, add_checkin, add_people

FERNET_PREFIX = b"gAAAAA"


def answered_at(week: date = WEEK) -> datetime:
    """Two hours after the week's Thursday check-ins went out."""
    thursday = week + timedelta(days=3)
    return datetime(thursday.year, thursday.month, thursday.day, 23, 0, tzinfo=UTC)


def answer_climate(
    deps: Deps,
    mentees: Sequence[str],
    scores: Sequence[int],
    *,
    week: date = WEEK,
    met: Sequence[bool] | None = None,
    item: int = 2,
    wellbeing: int = 3,
    at: datetime | None = None,
) -> dict[str, int]:
    """Sent check-ins of `week` for `mentees`, each answered with its score; returns their ids by mentee."""
    add_people(deps, list(mentees))
    with deps.sessions.begin() as session:
        for mentee in mentees:
            add_checkin(session, mentee=mentee, week=week, status="sent", psych_item=item)
    ids = checkin_ids(deps, mentees, week=week)
    for i, mentee in enumerate(mentees):
        answer = ModalAnswer(wellbeing=wellbeing, psych_score=scores[i], met_mentor=met[i] if met else True)
        record_answer(
            deps, checkin_id=ids[mentee], user_id=mentee, answer=answer, now=at or answered_at(week)
        )
    return ids


def checkin_ids(deps: Deps, mentees: Sequence[str], *, week: date = WEEK) -> dict[str, int]:
    with deps.sessions.begin() as session:
        rows = session.execute(
            select(Checkin.mentee_id, Checkin.id).where(
                Checkin.program_id == PROGRAM,
                Checkin.mentee_id.in_(list(mentees)),
                Checkin.period >= week,
                Checkin.period < week + timedelta(days=7),
            )
        )
        return {row.mentee_id: row.id for row in rows}


def stored_tokens(deps: Deps) -> list[bytes]:
    """The climate_score column as the database holds it (plain SQL: no decryption)."""
    with deps.engine.connect() as connection:
        query = text("SELECT climate_score FROM checkin_answers WHERE climate_score IS NOT NULL")
        return [value.encode() for value in connection.scalars(query)]


def decrypts_to(deps: Deps, value: object) -> str | None:
    """The plaintext of a stored value that is a Fernet token under the bot's key, else None."""
    if not isinstance(value, str | bytes):
        return None
    raw = value.encode() if isinstance(value, str) else value
    if not raw.startswith(FERNET_PREFIX):
        return None
    try:
        return deps.keys.fernet.decrypt(raw).decode("utf-8", "replace")
    except InvalidToken:
        return None


def sqlite_files(deps: Deps) -> tuple[Path, Path]:
    main = Path(deps.engine.url.database or "")
    return main, main.with_name(main.name + "-wal")
