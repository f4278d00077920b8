"""Digest previews for coordinators: `/mentorship digest [PROGRAM] [preview]` and App Home's button."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from slack_bolt import App, Respond
from slack_sdk import WebClient

from bot.digests.blocks import PREVIEW_ACTIONS, preview_message_modal, preview_modal
from bot.digests.posting import preview
from bot.kernel.authz import Action, authorize
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from bot.kernel.roles import roles_now
from handlers.common import Body, CommandContext, Subcommand, ack_only, ephemeral, safe_lazy

log = logging.getLogger("mentorbot.handlers.digests")

USAGE = "Type `/mentorship digest PROGRAM preview`"


@cache
def _after_ack() -> ThreadPoolExecutor:
    # `/mentorship` is one Bolt listener shared by every subcommand, so a subcommand has no lazy
    # slot of its own: the preview is built on this small pool once the ack has gone out.
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="digest-preview")


def _choose_program(ctx: CommandContext) -> Program | str:
    """The program the command names, or the only one the caller coordinates; else what to say."""
    words = [word for word in ctx.args if word.lower() != "preview"]
    programs = ctx.deps.programs
    if len(words) > 1:
        return f"Too many words. {USAGE}, for example `/mentorship digest {programs.ids[0]} preview`."
    if words:
        found = programs.get(words[0].lower())
        if found is None:
            return f"There is no program `{words[0][:40]}`. Programs: {', '.join(programs.ids)}. {USAGE}."
        return found
    mine = programs.by_coordinator(ctx.user_id)
    if len(mine) == 1:
        return mine[0]
    if not mine:
        return "Only program coordinators can see a digest. Type `/mentorship help` to see what you can do."
    return f"You coordinate several programs: {', '.join(p.id for p in mine)}. {USAGE}."


def _digest(ctx: CommandContext) -> None:
    chosen = _choose_program(ctx)
    if isinstance(chosen, str):
        ctx.ack(**ephemeral(chosen))
        return
    roles = roles_now(ctx.deps, user_id=ctx.user_id)
    decision = authorize(roles, Action.DIGEST_PREVIEW, program_id=chosen.id)
    if not decision.allowed:
        ctx.ack(**ephemeral(decision.message))
        return
    ctx.ack(**ephemeral(f"Building the digest preview for {chosen.name}…"))
    task = safe_lazy(_respond_with_preview)
    _after_ack().submit(task, deps=ctx.deps, program=chosen, respond=ctx.respond)


def _respond_with_preview(deps: Deps, program: Program, respond: Respond) -> None:
    message = preview(deps, program=program, now=deps.clock())
    respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False)


MENTORSHIP_SUBCOMMANDS: dict[str, Subcommand] = {"digest": _digest}


def open_preview(body: Body, client: WebClient, *, deps: Deps) -> None:
    user_id = body["user"]["id"]
    program_id = str(body["actions"][0].get("value") or "")
    program = deps.programs.get(program_id)
    roles = roles_now(deps, user_id=user_id)
    decision = authorize(roles, Action.DIGEST_PREVIEW, program_id=program_id)
    if program is None or not decision.allowed:
        text = (
            decision.message if program is not None else f"There is no program `{program_id[:40]}` any more."
        )
        client.views_open(trigger_id=body["trigger_id"], view=preview_message_modal(text))
        return
    # Open at once while the trigger is fresh (3 s); the digest may take longer to build.
    opened = client.views_open(
        trigger_id=body["trigger_id"], view=preview_message_modal(f"Building the digest for {program.name}…")
    )
    message = preview(deps, program=program, now=deps.clock())
    client.views_update(view_id=opened["view"]["id"], view=preview_modal(message.blocks))


def register(app: App, *, deps: Deps) -> None:
    app.action(PREVIEW_ACTIONS)(ack=ack_only, lazy=[safe_lazy(open_preview, deps=deps)])
