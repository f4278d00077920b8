"""Session reflections, protected time and competencies (filled in by its feature issue)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.programs import Program
from bot.roles import UserRoles


def home_blocks(session: Session, *, deps: Deps, roles: UserRoles, now: datetime) -> list[dict[str, Any]]:
    """App Home section: nothing yet."""
    return []


@dataclass(frozen=True)
class OverduePair:
    pair_id: int
    program_id: str
    mentor_id: str
    mentee_id: str
    last_session: date | None  # last confirmed session
    days_since: int  # since the last confirmed session, or since the pair started


def overdue_pairs(session: Session, *, program: Program, now: datetime) -> list[OverduePair]:
    """Active pairs with no confirmed session for longer than program.pairs.session_expected_every_days."""
    return []
