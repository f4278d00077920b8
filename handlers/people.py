"""`user_change` events keep cached names, timezones and the active flag current."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.kernel.deps import Deps
from bot.kernel.people import apply_profile
from bot.reports.roster_snapshots import record_deactivation
from handlers.common import with_deps
from storage.repositories.people import get_person


def register(app: App, *, deps: Deps) -> None:
    app.event("user_change")(with_deps(user_changed, deps))


def user_changed(event: dict[str, Any], *, deps: Deps) -> None:
    user = event.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return
    with deps.sessions.begin() as session:
        # Only people the bot already knows: a workspace's every profile edit is none of its business.
        if get_person(session, user_id=user["id"]) is not None:
            apply_profile(session, user=user, now=deps.clock())
        # A deactivation is a departure for retention (known people and HR roster entries only).
        record_deactivation(session, user=user, now=deps.clock())
