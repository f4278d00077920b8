"""Slack's event retries: each Events API delivery is claimed by its event_id before any listener runs.

Slack redelivers an event (same event_id, an X-Slack-Retry-Num header) when the first delivery was not
acknowledged within 3 seconds or the connection failed, usually while the first is still being handled
or after it was. Claiming first makes the retry a no-op. The bot answers Slack 200 even when a listener
fails (handlers.errors), so a retry never stands for a failure the bot reported; what a crash mid-event
can lose repairs itself: App Home is published again when next opened, profiles are refreshed daily.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltResponse

from bot.kernel.deps import Deps
from handlers.common import Body, with_deps
from storage.repositories.events import claim_event

log = logging.getLogger("mentorbot.handlers.events")


def register(app: App, *, deps: Deps) -> None:
    app.middleware(with_deps(skip_handled_events, deps))


def skip_handled_events(body: Body, next_: Callable[[], None], *, deps: Deps) -> BoltResponse | None:
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    if not isinstance(event_id, str) or not event_id:
        next_()
        return None
    with deps.sessions.begin() as session:
        first = claim_event(session, event_id=event_id[:64], now=deps.clock())
    if first:
        next_()
        return None
    # Event ids are Slack's random delivery ids: nothing about a person.
    log.info("event %s was already handled; Slack's retry is acknowledged and skipped", event_id)
    return BoltResponse(status=200, body="")
