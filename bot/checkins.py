"""Scheduled work for checkins (filled in by its feature issue)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.roles import UserRoles


def run_due(deps: Deps, now: datetime) -> list[str]:
    """Nothing scheduled yet."""
    return []


def home_blocks(session: Session, *, deps: Deps, roles: UserRoles, now: datetime) -> list[dict[str, Any]]:
    """App Home section: nothing yet."""
    return []


def next_checkin_line(session: Session, *, deps: Deps, user_id: str, now: datetime) -> str | None:
    """One line for /mentorship status: when the user's next check-in is due, or that they are paused."""
    return None
