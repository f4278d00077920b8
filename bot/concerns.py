"""Scheduled work for concerns (filled in by its feature issue)."""

from __future__ import annotations

from datetime import datetime

from bot.deps import Deps


def run_due(deps: Deps, now: datetime) -> list[str]:
    """Nothing scheduled yet."""
    return []
