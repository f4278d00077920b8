"""Demo chapter: digest (filled in by its feature issue)."""

from __future__ import annotations

from bot.demo.world import World


def run(world: World) -> None:
    """Nothing to show yet."""
