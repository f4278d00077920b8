"""The roles lookup on an ack's hot path reads one SELECT straight from the driver: its answers match the
ORM's, and its errors are SQLAlchemy's, named like any database error and never carrying the user id."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError, StatementError

from bot.kernel.deps import Deps
from storage.engine import database_problem, make_engine
from storage.repositories.pairs import pair_roles_of, pair_roles_on_driver
from tests.support.factories import make_pair


def test_the_driver_lookup_finds_what_the_orm_finds(deps: Deps) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    make_pair(deps, "U0MENTOR1", "U0MENTEE2", program_id="nursing-2026")
    for user_id in ("U0MENTOR1", "U0MENTEE1", "U0MENTEE2", "U0NOBODY"):
        with deps.sessions.begin() as session:
            expected = sorted(pair_roles_of(session, user_id=user_id))
        assert sorted(pair_roles_on_driver(deps.lookups, user_id=user_id)) == expected


def test_a_database_that_cannot_be_opened_is_named_without_the_user_id(tmp_path: Path) -> None:
    missing = tmp_path / "gone" / "mentorbot.db"
    engine = make_engine(f"sqlite:///{missing}")
    with pytest.raises(StatementError) as caught:
        pair_roles_on_driver(engine, user_id="U0SECRETID")
    assert isinstance(caught.value, DBAPIError)
    assert "U0SECRETID" not in str(caught.value)
    problem = database_problem(caught.value)
    assert problem is not None and problem.cause == "cannot_open" and str(missing) in str(problem)
