"""The one error handler: the log gets the traceback, the person a short message, Slack a 200."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import App, BoltResponse

from bot.kernel.deps import Deps
from bot.kernel.logging_setup import log_failure
from bot.kernel.refusals import Refusal
from bot.slack.blocks import View, message_modal
from handlers.common import SORRY

log = logging.getLogger("mentorbot.errors")


def error_view(text: str) -> View:
    return message_modal("Something went wrong", text)


def handle_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
    """A Refusal is shown as is; anything else is logged and the person gets a short apology."""
    kind = body.get("type") or ("command" if "command" in body else "event")
    if isinstance(error, Refusal):
        text = str(error)
    else:
        # Only the kind of request: bodies may carry concern text or a sender's id.
        log_failure(log, "listener failed for a %s request", kind)
        text = SORRY
    if kind == "view_submission":
        reply: dict[str, Any] = {"response_action": "update", "view": error_view(text)}
    elif kind == "command":
        reply = {"response_type": "ephemeral", "text": text}
    else:
        return BoltResponse(status=200, body="")
    return BoltResponse(status=200, body=json.dumps(reply), headers={"content-type": "application/json"})


def register(app: App, *, deps: Deps) -> None:
    app.error(handle_error)
