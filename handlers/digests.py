"""Slack listeners for digests (filled in by its feature issue)."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps
from handlers.common import Subcommand

# `/mentorship <name>` subcommands this feature adds.
MENTORSHIP_SUBCOMMANDS: dict[str, Subcommand] = {}


def register(app: App, *, deps: Deps) -> None:
    """No listeners yet."""
