"""Migration 0008 on existing data: plaintext team-climate scores leave `checkin_answers` for good."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from bot.checkins.climate import close_due
from bot.kernel.deps import Deps
from storage import migrate
from storage.models.base import UTCDateTime
from tests.support.climate import decrypts_to, sqlite_files
from tests.support.digests import PROGRAM, add_people, mentee_ids
from tests.support.people import PROGRAMS_FILE, SECRET_KEY

MENTEES = mentee_ids(6)
# The migration runs at the real time, so the weeks are placed around it.
NOW = datetime.now(UTC)
THIS_WEEK = NOW.date() - timedelta(days=NOW.weekday())
OVER, SMALL = THIS_WEEK - timedelta(weeks=8), THIS_WEEK - timedelta(weeks=7)
OLD_ANSWERS = sa.table(
    "checkin_answers",
    sa.column("checkin_id", sa.Integer()),
    sa.column("wellbeing", sa.Integer()),
    sa.column("psych_score", sa.Integer()),
    sa.column("met_mentor", sa.Boolean()),
    sa.column("answered_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)


def _migrate(deps: Deps, revision: str, *, down: bool = False) -> None:
    config = migrate.alembic_config(deps.engine)
    with migrate.migration_connection(deps.engine) as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


OLD_CHECKINS = sa.table(
    "checkins",
    *(sa.column(name, sa.String()) for name in ("program_id", "mentee_id", "status", "claimed_by")),
    sa.column("id", sa.Integer()),
    sa.column("period", sa.Date()),
    *(sa.column(name, UTCDateTime()) for name in ("due_at", "expires_at", "claimed_at", "sent_at")),
    sa.column("psych_item", sa.Integer()),
    sa.column("attempts", sa.Integer()),
)


def _answered(session: Session, mentee: str, week: date, *, item: int, score: int, expires: datetime) -> None:
    """A check-in answered the old way (psych_score in the clear), written with the 0007 schema's columns
    only: today's models have columns the old schema lacks."""
    due = datetime.combine(week + timedelta(days=3), datetime.min.time(), tzinfo=UTC)
    checkin_id = session.execute(
        sa.insert(OLD_CHECKINS)
        .values(
            program_id=PROGRAM,
            mentee_id=mentee,
            period=week + timedelta(days=3),
            due_at=due,
            expires_at=expires,
            status="answered",
            psych_item=item,
            claimed_at=due,
            claimed_by="test",
            sent_at=due,
            attempts=1,
        )
        .returning(OLD_CHECKINS.c.id)
    ).scalar_one()
    at = due + timedelta(hours=1)
    values = {"wellbeing": 3, "psych_score": score, "met_mentor": True, "answered_at": at, "updated_at": at}
    session.execute(sa.insert(OLD_ANSWERS).values(checkin_id=checkin_id, **values))


def _seed_old_schema(deps: Deps) -> None:
    add_people(deps, MENTEES)  # through today's models, before the schema goes back to 0007
    _migrate(deps, "0007_keys", down=True)
    with deps.sessions.begin() as session:
        for i, mentee in enumerate(MENTEES):  # over: six answers, items 1..6 (1, 3, 5 reversed)
            over = datetime.combine(OVER + timedelta(days=7), datetime.min.time(), tzinfo=UTC)
            _answered(session, mentee, OVER, item=1 + i, score=2, expires=over)
        for mentee in MENTEES[:2]:  # over, but too small for the migration to move without programs.yml
            small = datetime.combine(SMALL + timedelta(days=7), datetime.min.time(), tzinfo=UTC)
            _answered(session, mentee, SMALL, item=2, score=7, expires=small)
        for mentee in MENTEES[:3]:  # still open
            _answered(session, mentee, THIS_WEEK, item=2, score=4, expires=NOW + timedelta(days=3))


def _answers(deps: Deps) -> list[dict[str, object]]:
    with deps.engine.connect() as connection:
        return [dict(row) for row in connection.execute(sa.text("SELECT * FROM checkin_answers")).mappings()]


def test_the_migration_moves_weeks_that_are_over_shuffled_and_encrypts_the_rest(deps: Deps) -> None:
    _seed_old_schema(deps)

    migrate.upgrade(deps.engine)

    assert "psych_score" not in {c["name"] for c in sa.inspect(deps.engine).get_columns("checkin_answers")}
    with deps.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT week, met, score FROM climate_answers")).all()
        weeks = connection.execute(sa.text("SELECT week, answered FROM climate_weeks")).all()
    assert sorted(score for _, _, score in rows) == [2, 2, 2, 6, 6, 6] and {met for _, met, _ in rows} == {
        None
    }
    assert [(str(week), answered) for week, answered in weeks] == [(OVER.isoformat(), 6)]
    left = _answers(deps)
    assert all(row["climate_answered"] for row in left) and len(left) == 11
    assert (
        sorted(decrypts_to(deps, row["climate_score"]) or "-" for row in left)
        == ["-"] * 6 + ["4"] * 3 + ["7"] * 2
    )
    if deps.engine.dialect.name == "sqlite":
        _, wal = sqlite_files(deps)
        assert not wal.exists() or wal.stat().st_size == 0  # scrubbed after the upgrade committed

    # The first tick applies the program's own threshold and cutoff to what the migration left.
    [closed] = close_due(deps, NOW)
    assert (closed.week, closed.answered, closed.moved) == (SMALL, 2, 0)
    assert (
        sorted(decrypts_to(deps, row["climate_score"]) or "-" for row in _answers(deps))
        == ["-"] * 8 + ["4"] * 3
    )


def test_downgrading_restores_only_the_scores_still_beside_their_checkins(deps: Deps) -> None:
    _seed_old_schema(deps)
    migrate.upgrade(deps.engine)
    _migrate(deps, "0007_keys", down=True)
    assert sorted(str(row["psych_score"]) for row in _answers(deps)) == ["4"] * 3 + ["7"] * 2 + ["None"] * 6
    migrate.upgrade(deps.engine)
    assert migrate.current_revision(deps.engine) == migrate.head_revision()


def test_mentorbot_migrate_in_a_fresh_process_installs_the_keys_before_encrypting(
    deps: Deps, tmp_path: Path
) -> None:
    """bootstrap opens the keys after the key check table exists and before 0008 needs them."""
    _seed_old_schema(deps)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "DATABASE_URL": deps.settings.database_url,
        "MENTORBOT_PROGRAMS": str(PROGRAMS_FILE),
        "MENTORBOT_SECRET_KEY": SECRET_KEY,
    }
    mentorbot = Path(sys.executable).with_name("mentorbot")
    done = subprocess.run(
        [str(mentorbot), "migrate"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert migrate.current_revision(deps.engine) == migrate.head_revision()
    assert sorted(decrypts_to(deps, row["climate_score"]) or "-" for row in _answers(deps)) == (
        ["-"] * 6 + ["4"] * 3 + ["7"] * 2
    )
