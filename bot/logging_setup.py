"""Logging that never carries message text, request bodies or concern senders."""

from __future__ import annotations

import logging

# These libraries log whole request and response bodies at DEBUG (slash-command text,
# modal submissions, chat.postMessage text). Their DEBUG output is dropped at any level.
CHATTY_LIBRARIES = ("slack_bolt", "slack_sdk", "urllib3", "waitress", "apscheduler")


class DropDebug(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.INFO


def quiet_libraries() -> None:
    """Keep library loggers at INFO or above even when the root logger is at DEBUG."""
    for name in CHATTY_LIBRARIES:
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, logging.INFO))
        if not any(isinstance(f, DropDebug) for f in logger.filters):
            logger.addFilter(DropDebug())


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    quiet_libraries()
