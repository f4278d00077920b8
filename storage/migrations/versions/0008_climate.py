"""team-climate answers unlinked from mentees

Revision ID: 0008_climate
Revises: 0007_keys

`checkin_answers.psych_score` held each mentee's team-climate answer in the clear beside the check-in
that names them. It goes: weeks that are certainly over (every check-in of the program's week has
expired) with at least MIN_BATCH answers are moved now, shuffled, into `climate_answers`, as
bot.checkins.climate does when a week closes; every other score is kept encrypted in
`climate_score`, and the first tick after the upgrade closes those weeks with the program's own
min_group_size and cutoff (programs.yml, which a migration cannot see). Encrypting needs the secret
key installed (the bot's start does that before migrating). storage.migrate scrubs the old row
images from the files after the upgrade commits.

Downgrading restores only the scores still encrypted beside their check-ins: moved ones are, by
design, no longer anyone's.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.crypto import EncryptedText

revision = "0008_climate"
down_revision = "0007_keys"
branch_labels = None
depends_on = None

# The default privacy.min_group_size: smaller batches are left for the tick, which knows the program's.
MIN_BATCH = 5
REVERSED = frozenset({1, 3, 5})
WEEK = timedelta(days=7)

CHECKINS = sa.table(
    "checkins",
    sa.column("id", sa.Integer()),
    sa.column("program_id", sa.String()),
    sa.column("period", sa.Date()),
    sa.column("expires_at", sa.DateTime(timezone=True)),
    sa.column("psych_item", sa.Integer()),
)
ANSWERS = sa.table(
    "checkin_answers",
    sa.column("checkin_id", sa.Integer()),
    sa.column("psych_score", sa.Integer()),
    sa.column("climate_score", EncryptedText()),
    sa.column("climate_answered", sa.Boolean()),
    sa.column("met_mentor", sa.Boolean()),
)
CLIMATE = sa.table(
    "climate_answers",
    sa.column("program_id", sa.String()),
    sa.column("week", sa.Date()),
    sa.column("met", sa.Boolean()),
    sa.column("score", sa.Integer()),
)
WEEKS = sa.table(
    "climate_weeks", sa.column("program_id", sa.String()), sa.column("week", sa.Date()), sa.column("answered")
)


def upgrade() -> None:
    with op.batch_alter_table("checkin_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("climate_score", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("climate_answered", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "climate_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("met", sa.Boolean(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_climate_answers_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_climate_answers")),
    )
    op.create_table(
        "climate_weeks",
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_climate_weeks_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", "week", name=op.f("pk_climate_weeks")),
    )
    _unlink_existing_scores(op.get_bind(), now=datetime.now(UTC))
    with op.batch_alter_table("checkin_answers", schema=None) as batch_op:
        batch_op.drop_column("psych_score")


def _unlink_existing_scores(bind: sa.Connection, *, now: datetime) -> None:
    """Move the scores of weeks that are over, encrypt the rest; psych_score ends NULL everywhere."""
    by_week: dict[tuple[str, date], list[Any]] = defaultdict(list)
    query = (
        sa.select(ANSWERS.c.checkin_id, ANSWERS.c.psych_score, ANSWERS.c.met_mentor, CHECKINS.c.program_id)
        .add_columns(CHECKINS.c.period, CHECKINS.c.psych_item)
        .join(CHECKINS, CHECKINS.c.id == ANSWERS.c.checkin_id)
        .where(ANSWERS.c.psych_score.is_not(None))
    )
    for row in bind.execute(query):
        by_week[(row.program_id, _monday(row.period))].append(row)
    over = _weeks_over(bind, now=now)
    for (program_id, week), rows in sorted(by_week.items()):
        moved = (program_id, week) in over and len(rows) >= MIN_BATCH
        if moved:
            _insert_batch(bind, program_id=program_id, week=week, rows=rows)
        _update_answers(bind, rows=rows, encrypt=not moved)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weeks_over(bind: sa.Connection, *, now: datetime) -> set[tuple[str, date]]:
    """(program, week) pairs whose check-ins have all expired and whose days are all past."""
    latest: dict[tuple[str, date], datetime] = {}
    query = sa.select(CHECKINS.c.program_id, CHECKINS.c.period, sa.func.max(CHECKINS.c.expires_at)).group_by(
        CHECKINS.c.program_id, CHECKINS.c.period
    )
    for program_id, period, expires in bind.execute(query):
        instant = expires if expires.tzinfo else expires.replace(tzinfo=UTC)  # SQLite keeps UTC, naive
        key = (program_id, _monday(period))
        latest[key] = max(latest.get(key, instant), instant)
    today = now.date()
    return {key for key, expires in latest.items() if expires <= now and key[1] + WEEK < today}


def _insert_batch(bind: sa.Connection, *, program_id: str, week: date, rows: list[Any]) -> None:
    """One shuffled INSERT, as bot.checkins.climate.close_week does; `met` only if both sides are big."""
    met = sum(1 for row in rows if row.met_mentor is True)
    split = met >= MIN_BATCH and len(rows) - met >= MIN_BATCH
    batch = [
        {
            "program_id": program_id,
            "week": week,
            "met": (row.met_mentor is True) if split else None,
            "score": 8 - row.psych_score if row.psych_item in REVERSED else row.psych_score,
        }
        for row in rows
    ]
    secrets.SystemRandom().shuffle(batch)
    bind.execute(sa.insert(CLIMATE), batch)
    bind.execute(sa.insert(WEEKS).values(program_id=program_id, week=week, answered=len(rows)))


def _update_answers(bind: sa.Connection, *, rows: list[Any], encrypt: bool) -> None:
    statement = (
        sa.update(ANSWERS)
        .where(ANSWERS.c.checkin_id == sa.bindparam("b_id"))
        .values(
            psych_score=None,
            climate_answered=True,
            climate_score=sa.bindparam("b_score", type_=EncryptedText()),
        )
    )
    params = [{"b_id": row.checkin_id, "b_score": str(row.psych_score) if encrypt else None} for row in rows]
    bind.execute(statement, params)


def downgrade() -> None:
    with op.batch_alter_table("checkin_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("psych_score", sa.Integer(), nullable=True))
    bind = op.get_bind()
    still_linked = bind.execute(
        sa.select(ANSWERS.c.checkin_id, ANSWERS.c.climate_score).where(ANSWERS.c.climate_score.is_not(None))
    ).all()
    if still_linked:
        bind.execute(
            sa.update(ANSWERS)
            .where(ANSWERS.c.checkin_id == sa.bindparam("b_id"))
            .values(psych_score=sa.bindparam("b_score")),
            [{"b_id": row.checkin_id, "b_score": int(row.climate_score)} for row in still_linked],
        )
    with op.batch_alter_table("checkin_answers", schema=None) as batch_op:
        batch_op.drop_column("climate_answered")
        batch_op.drop_column("climate_score")
    op.drop_table("climate_weeks")
    op.drop_table("climate_answers")
