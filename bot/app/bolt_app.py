"""Composition root: builds the Bolt app and registers every handler module."""

from __future__ import annotations

import logging
import time

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.app.bootstrap import bootstrap
from bot.kernel import metrics
from bot.kernel.deps import Deps
from bot.kernel.logging_setup import quiet_libraries
from bot.kernel.settings import Settings
from handlers import (
    checkins,
    concerns,
    digests,
    errors,
    events,
    home,
    ideas,
    instruments,
    matching,
    mentorship,
    people,
    reflections,
    tracks,
)

log = logging.getLogger("mentorbot.app")

HANDLER_MODULES = (
    errors,
    events,
    mentorship,
    home,
    people,
    checkins,
    concerns,
    reflections,
    digests,
    ideas,
    tracks,
    matching,
    instruments,
)


def create_app(settings: Settings, *, client: WebClient | None = None) -> App:
    """Build the app from settings; nothing happens at import time."""
    return build_app(bootstrap(settings, client=client))


def build_app(deps: Deps) -> App:
    """The Bolt app over ready dependencies.

    process_before_response=True: the HTTP response goes out the moment the listener
    returns, instead of Bolt's default of polling for ack() every 10 ms. Slow work is
    registered as lazy listeners, which Bolt runs on its thread pool after the response.
    """
    quiet_libraries()
    settings = deps.settings
    socket_mode = settings.socket_mode
    app = App(
        client=deps.client,
        signing_secret=settings.slack_signing_secret.get_secret_value()
        if settings.slack_signing_secret
        else "",
        process_before_response=True,
        request_verification_enabled=not socket_mode,
        token_verification_enabled=False,
        logger=logging.getLogger("slack_bolt.mentorbot"),
    )
    for module in HANDLER_MODULES:
        module.register(app, deps=deps)
    quiet_libraries()  # again: Bolt created its loggers while building the app
    return app


def dispatch_timed(app: App, request: BoltRequest, *, received: float) -> BoltResponse:
    """Dispatch and record the ack latency by request kind (`received`: time.perf_counter() on arrival).

    With process_before_response=True the response (the ack) leaves when dispatch returns, so this is
    the time Slack waits. Both modes dispatch through here. A request whose shape breaks Bolt itself
    (a view_submission without view.type raises KeyError while Bolt builds its error handler's
    arguments) gets 400 and one log line, never a 500 that Slack would retry.
    """
    kind = metrics.request_kind(request.body)
    try:
        response = app.dispatch(request)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        log.warning("a malformed %s request was refused (%s)", kind, type(exc).__name__)
        response = BoltResponse(status=400, body={"error": "malformed request"})
    metrics.observe_ack(kind, time.perf_counter() - received)
    return response
