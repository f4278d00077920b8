"""Small pieces every handler uses: binding deps, the ack-only listener, telling a person something,
ephemeral replies and safe lazy work."""

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
from bot.kernel.refusals import Refusal

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
Body = dict[str, Any]


def with_deps(listener: Callable[..., Any], deps: Deps) -> Callable[..., Any]:
    """`listener` with its keyword-only `deps` filled in.

    Bolt passes a listener the arguments its positional parameters name (ack, body, client, …) and
    finds them through `__wrapped__`, so `deps` stays out of sight of Bolt.
    """
    bound = functools.partial(listener, deps=deps)
    functools.update_wrapper(bound, listener)
    return bound


def ack_only(ack: Ack) -> None:
    """The quick half of a listener whose work all happens in its lazy half."""
    ack()


def tell(
    text: str, *, respond: Respond | None, body: Body | None = None, client: WebClient | None = None
) -> None:
    """Tell whoever sent a request something only they see.

    Through the request's response_url when it has one (commands, message buttons); App Home has none,
    so there an ephemeral in the button's channel, else a DM. Without `body` and `client`, only respond.
    """
    if respond is not None:
        respond(text=text, response_type="ephemeral", replace_original=False)
    elif body is not None and client is not None:
        user_id = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id")
        if channel:
            client.chat_postEphemeral(channel=channel, user=user_id, text=text)
        else:
            client.chat_postMessage(channel=user_id, text=text)


def ephemeral(text: str, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    reply: dict[str, Any] = {"response_type": "ephemeral", "text": text}
    if blocks:
        reply["blocks"] = blocks
    return reply


def safe_lazy(fn: Callable[..., None], *, deps: Deps | None = None) -> Callable[..., None]:
    """Wrap a lazy listener (bound to `deps` when given) so the person hears how it ended.

    Lazy listeners run after the ack, outside Bolt's error handler: a Refusal is told to the person as
    is; any other failure is logged with its traceback and the person gets a short apology.
    """
    listener = fn if deps is None else with_deps(fn, deps)

    @functools.wraps(listener)
    def wrapper(**kwargs: Any) -> None:
        respond = kwargs.get("respond")
        try:
            listener(**kwargs)
        except Refusal as refusal:
            tell(str(refusal), respond=respond, body=kwargs.get("body"), client=kwargs.get("client"))
        except Exception:
            log_failure(log, "lazy listener %s failed", fn.__name__)
            try:
                tell(SORRY, respond=respond)
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
