"""Whether Slack refuses SLACK_BOT_TOKEN itself: one process-wide fact.

Any Web API call that answers token_revoked, invalid_auth or account_inactive notes it here (the
WebClient from bot.slack.client does so for every call). Fan-outs stop sending while it is set,
readiness reports it, and `mentorbot tick` exits non-zero; the operator gets one log line naming the
variable, not one warning per message. A later successful call clears it.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("mentorbot.slack")

# What each code means for the operator, and what to do about it.
DEAD_TOKEN_ERRORS: dict[str, str] = {
    "token_revoked": "the token was revoked or the app uninstalled — reinstall the app and set the new "
    "xoxb- token",
    "invalid_auth": "the token is not valid for this workspace — set the Bot User OAuth Token (xoxb-) "
    "from the app's OAuth & Permissions page",
    "account_inactive": "the bot user or its workspace was deactivated — reinstall the app and set the "
    "new xoxb- token",
}

_lock = threading.Lock()
_failure: str | None = None


def is_dead_token_error(code: str | None) -> bool:
    """Whether a Slack error code means the bot token itself is refused (not this one call)."""
    return code in DEAD_TOKEN_ERRORS


def operator_line(code: str) -> str:
    """The one line an operator reads: the variable, Slack's word for it, and what to do."""
    advice = DEAD_TOKEN_ERRORS.get(code, "check the token")
    return f"SLACK_BOT_TOKEN: Slack says {code}; {advice}. Scheduled sends are stopped until then."


def note_token_failure(code: str) -> None:
    """Record that Slack refused the bot token with `code`; the first refusal logs the operator line."""
    global _failure
    with _lock:
        first = _failure is None
        _failure = code
    if first:
        log.error(operator_line(code))


def token_failure() -> str | None:
    """Slack's error code for the refused bot token, or None while the token works (or is untested)."""
    return _failure


def clear_token_failure() -> None:
    """Forget a refusal (a call with the token succeeded again); says so once when one was recorded."""
    global _failure
    with _lock:
        was, _failure = _failure, None
    if was is not None:
        log.warning("SLACK_BOT_TOKEN: Slack accepts the token again; scheduled sends resume")
