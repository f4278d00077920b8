"""Logging that never carries message text, request bodies or concern senders."""

from __future__ import annotations

import logging
import re
import sys

# These libraries log whole request and response bodies: at DEBUG (slash-command text, modal
# submissions, chat.postMessage text) and even at INFO (Bolt's "Invalid request signature
# detected (..., body: ...)"). Their DEBUG output is dropped and the rest cut to its first clause.
CHATTY_LIBRARIES = (
    "slack_bolt",
    "slack_sdk",
    "urllib3",
    "waitress",
    "granian",
    "_granian",
    "apscheduler",
    "sqlalchemy",
)
_DETAIL = re.compile(r"\s*[(:{\[].*", re.DOTALL)


class RedactLibraryRecord(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO:
            return False
        message = record.getMessage()
        record.msg, record.args = _DETAIL.sub("", message, count=1) or "(details withheld)", ()
        return True


def quiet_libraries() -> None:
    """Redact every library logger that exists now; call again after building the app and client.

    Filters are per logger and not inherited, so each child logger (slack_bolt.App,
    slack_bolt.RequestVerification, slack_sdk.web.base_client, ...) gets its own.
    """
    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] in CHATTY_LIBRARIES]
    for name in {*CHATTY_LIBRARIES, *names}:
        logger = logging.getLogger(name)
        if name in CHATTY_LIBRARIES:
            logger.setLevel(max(logger.level, logging.INFO))
        if not any(isinstance(f, RedactLibraryRecord) for f in logger.filters):
            logger.addFilter(RedactLibraryRecord())


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    quiet_libraries()


class RedactedError(Exception):
    """Stands in for a logged exception: its type (and Slack error code), never its message."""


def log_failure(logger: logging.Logger, message: str, *args: object) -> None:
    """Log the exception being handled with its traceback frames, but not its text.

    Exception messages carry data: a SlackApiError holds Slack's whole response (for
    chat.postMessage, the posted text, which may be a concern), a pydantic error the input.
    """
    exc = sys.exc_info()[1]
    if exc is None:
        logger.error(message, *args)
        return
    summary = type(exc).__name__
    response = getattr(exc, "response", None)
    if response is not None and hasattr(response, "get"):
        summary += f" ({response.get('error', 'no error code')})"
    logger.error(message, *args, exc_info=(RedactedError, RedactedError(summary), exc.__traceback__))
