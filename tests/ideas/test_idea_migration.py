"""Migration 0014 on existing data: adding sessions.idea_id keeps every session, reflection and
competency observation (a copy of `sessions` on SQLite would have cascaded their deletion)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from bot.kernel.deps import Deps
from storage import migrate
from tests.support.factories import make_pair


def _migrate(deps: Deps, revision: str, *, down: bool = False) -> None:
    config = migrate.alembic_config(deps.engine)
    with deps.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def _counts(deps: Deps) -> list[int]:
    with deps.engine.connect() as connection:
        return [
            int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("sessions", "reflections", "competency_observations")
        ]


def test_upgrading_to_ideas_keeps_every_session_with_its_reflections_and_competencies(deps: Deps) -> None:
    pair_id = make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    _migrate(deps, "0013_tracks", down=True)
    with deps.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sessions (id, pair_id, program_id, session_date, duration_minutes, format, "
                "logged_by, logged_at, status) VALUES (1, :pair, 'img-2026', '2026-11-20', 45, 'video', "
                "'U0MENTOR1', '2026-11-20 12:00:00+00:00', 'confirmed')"
            ),
            {"pair": pair_id},
        )
        connection.execute(
            text(
                "INSERT INTO reflections (session_id, author_id, author_role, topics, share_learned, "
                "share_named, created_at) VALUES (1, 'U0MENTOR1', 'mentor', '[]', false, false, "
                "'2026-11-20 12:00:00+00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO competency_observations (session_id, program_id, mentee_id, competency, level, "
                "observed_on) VALUES (1, 'img-2026', 'U0MENTEE1', 'ethics', 'demonstrated', '2026-11-20')"
            )
        )
    _migrate(deps, "head")
    assert _counts(deps) == [1, 1, 1]
    with deps.engine.connect() as connection:
        assert connection.execute(text("SELECT idea_id FROM sessions")).scalar_one() is None
    _migrate(deps, "0013_tracks", down=True)
    assert _counts(deps) == [1, 1, 1]
    _migrate(deps, "head")
