"""Small pieces every handler uses: context, ephemeral replies, safe lazy work."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.kernel.deps import Deps
from bot.kernel.logging_setup import log_failure

log = logging.getLogger("mentorbot.handlers")

SORRY = "Sorry, something went wrong on our side and nothing was saved. Please try again in a minute."


@dataclass(frozen=True)
class CommandContext:
    """One slash command invocation, with its text split into words."""

    deps: Deps
    user_id: str
    channel_id: str
    args: list[str]
    ack: Ack
    respond: Respond
    trigger_id: str
    client: WebClient


Subcommand = Callable[[CommandContext], None]


def ephemeral(text: str, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    reply: dict[str, Any] = {"response_type": "ephemeral", "text": text}
    if blocks:
        reply["blocks"] = blocks
    return reply


def safe_lazy(fn: Callable[..., None]) -> Callable[..., None]:
    """Wrap a lazy listener so a failure is logged with its traceback and the person hears about it.

    Lazy listeners run after the ack, outside Bolt's error handler.
    """

    @functools.wraps(fn)
    def wrapper(**kwargs: Any) -> None:
        try:
            fn(**kwargs)
        except Exception:
            log_failure(log, "lazy listener %s failed", fn.__name__)
            respond = kwargs.get("respond")
            if respond is not None:
                try:
                    respond(text=SORRY, response_type="ephemeral", replace_original=False)
                except Exception:
                    log_failure(log, "could not tell the person about the failure")

    # Bolt binds arguments by the names of the function it finds through __wrapped__.
    return wrapper


def pressed_on(body: dict[str, Any]) -> tuple[str, str] | None:
    """The (channel, ts) of the message whose button was pressed; None for App Home."""
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if container.get("type") != "message" or not channel or not ts:
        return None
    return str(channel), str(ts)
