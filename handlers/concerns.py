"""Slack listeners for concerns (filled in by its feature issue)."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps


def register(app: App, *, deps: Deps) -> None:
    """No listeners yet."""
