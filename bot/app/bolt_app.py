"""Composition root: builds the Bolt app and registers every handler module."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient

from bot.app.bootstrap import bootstrap
from bot.kernel.deps import Deps
from bot.kernel.logging_setup import quiet_libraries
from bot.kernel.settings import Settings
from handlers import checkins, concerns, digests, errors, home, mentorship, people, reflections

HANDLER_MODULES = (errors, mentorship, home, people, checkins, concerns, reflections, digests)


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
