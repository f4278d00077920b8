"""Scheduled work for digests (filled in by its feature issue)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.roles import UserRoles


def run_due(deps: Deps, now: datetime) -> list[str]:
    """Nothing scheduled yet."""
    return []


def digest_command(deps: Deps, *, program_id: str, dry_run: bool, now: datetime) -> int:
    """Not built yet: says so and exits 2."""
    import sys

    sys.stderr.write("mentorbot: digests are not built yet\n")
    return 2


def home_blocks(session: Session, *, deps: Deps, roles: UserRoles, now: datetime) -> list[dict[str, Any]]:
    """App Home section: nothing yet."""
    return []
