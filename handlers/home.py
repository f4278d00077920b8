"""App Home: published when the user opens the bot's Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.home.tab import build_home
from bot.kernel.deps import Deps
from handlers.common import safe_lazy


def register(app: App, *, deps: Deps) -> None:
    app.event("app_home_opened")(ack=ack_event, lazy=[safe_lazy(publish_home, deps=deps)])


def ack_event() -> None:
    """Events are acked by Bolt; the view is published after the response."""


def publish_home(event: dict[str, Any], client: WebClient, *, deps: Deps) -> None:
    if event.get("tab", "home") != "home":
        return
    user_id = event["user"]
    with deps.read_sessions.begin() as session:
        view = build_home(session, deps=deps, user_id=user_id, now=deps.clock())
    client.views_publish(user_id=user_id, view=view)
