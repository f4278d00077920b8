"""Logging that never carries message text, request bodies or concern senders."""

from __future__ import annotations

import logging
import re
import sys
import threading
import time

from bot.kernel import metrics
from storage.engine import DatabaseProblem, database_problem

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
# Libraries whose INFO lines are progress chatter, not news: Alembic's "Running upgrade 0007 -> 0008"
# before every CLI command's own output, APScheduler's "Added job" at every start. Their warnings and
# errors still show; MENTORBOT_LOG_LEVEL=DEBUG shows the rest again.
NOISY_AT_INFO = ("alembic", "apscheduler")
_DETAIL = re.compile(r"\s*[(:{\[].*", re.DOTALL)


class RedactLibraryRecord(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO:
            return False
        message = _DETAIL.sub("", record.getMessage(), count=1) or "(details withheld)"
        record.msg, record.args = message, ()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            problem = database_problem(exc)
            if problem is not None:  # a known cause: one line, no traceback
                record.msg, record.exc_info, record.exc_text = f"{message}: {problem}", None, None
            else:  # the frames help, the exception's text may carry data
                record.exc_info = (RedactedError, RedactedError(type(exc).__name__), record.exc_info[2])
                record.exc_text = None
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
    numeric = getattr(logging, level.upper(), logging.INFO)
    logging.basicConfig(level=numeric, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in NOISY_AT_INFO:
        logging.getLogger(name).setLevel(logging.WARNING if numeric > logging.DEBUG else logging.NOTSET)
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
    problem = database_problem(exc)
    if problem is not None:
        log_database_problem(logger, problem, message, *args)
        return
    summary = type(exc).__name__
    response = getattr(exc, "response", None)
    if response is not None and hasattr(response, "get"):
        summary += f" ({response.get('error', 'no error code')})"
    logger.error(message, *args, exc_info=(RedactedError, RedactedError(summary), exc.__traceback__))


# A full disk fails every job of every tick the same way: say so once a minute, not once per job.
REPEAT_AFTER_SECONDS = 60.0
_last_said: dict[str, float] = {}
_last_said_lock = threading.Lock()


def log_database_problem(
    logger: logging.Logger, problem: DatabaseProblem, message: str, *args: object
) -> None:
    """One line naming the cause, the database and the fix; the same problem at most once a minute."""
    metrics.count_database_error(problem.cause)
    now = time.monotonic()
    with _last_said_lock:
        said = _last_said.get(str(problem))
        if said is not None and now - said < REPEAT_AFTER_SECONDS:
            return
        _last_said[str(problem)] = now
    logger.error(f"{message}: %s", *args, problem)
