"""`/mentorship`: help and status for everyone; pairing, digests and concerns for coordinators."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.deps import Deps
from bot.help_text import help_text
from bot.roles import roles_of
from bot.status import status_text
from handlers import concerns, digests
from handlers.common import CommandContext, Subcommand, ephemeral


def _help(ctx: CommandContext) -> None:
    with ctx.deps.read_sessions.begin() as session:
        roles = roles_of(session, programs=ctx.deps.programs, user_id=ctx.user_id)
    ctx.ack(**ephemeral(help_text(roles)))


def _status(ctx: CommandContext) -> None:
    with ctx.deps.read_sessions.begin() as session:
        text = status_text(session, deps=ctx.deps, user_id=ctx.user_id, now=ctx.deps.clock())
    ctx.ack(**ephemeral(text))


SUBCOMMANDS: dict[str, Subcommand] = {
    "help": _help,
    "status": _status,
    **concerns.MENTORSHIP_SUBCOMMANDS,
    **digests.MENTORSHIP_SUBCOMMANDS,
}


def register(app: App, *, deps: Deps) -> None:
    @app.command("/mentorship")
    def mentorship(ack: Ack, command: dict[str, str], respond: Respond, client: WebClient) -> None:
        words = command.get("text", "").split()
        name = words[0].lower() if words else "help"
        handler = SUBCOMMANDS.get(name)
        ctx = CommandContext(
            deps=deps,
            user_id=command["user_id"],
            channel_id=command.get("channel_id", ""),
            args=words[1:],
            ack=ack,
            respond=respond,
            trigger_id=command.get("trigger_id", ""),
            client=client,
        )
        if handler is None:
            ack(**ephemeral(f"I don't know `{name[:30]}`. Type `/mentorship help` to see what you can do."))
            return
        handler(ctx)
