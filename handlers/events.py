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

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.kernel.deps import Deps
from storage.repositories.events import claim_event

log = logging.getLogger("mentorbot.handlers.events")


def register(app: App, *, deps: Deps) -> None:
    app.middleware(SkipHandledEvents(deps))


class SkipHandledEvents(Middleware):
    """A Middleware subclass, not a function: Bolt calls it without building listener arguments, which
    would cost every ack (commands and actions included) more than the check itself."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],  # noqa: A002
    ) -> BoltResponse | None:
        body = req.body
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not isinstance(event_id, str) or not event_id or self._first(event_id):
            return next()
        # Event ids are Slack's random delivery ids: nothing about a person.
        log.info("event %s was already handled; Slack's retry is acknowledged and skipped", event_id)
        return BoltResponse(status=200, body="")

    def _first(self, event_id: str) -> bool:
        with self.deps.sessions.begin() as session:
            return claim_event(session, event_id=event_id[:64], now=self.deps.clock())
