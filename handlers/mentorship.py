"""`/mentorship`: help and status for everyone; pairing, digests and concerns for coordinators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltRequest, BoltResponse, Respond
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient

from bot.home.help_text import help_text
from bot.home.status import status_text
from bot.kernel.deps import Deps
from bot.kernel.roles import roles_now
from bot.pairs.commands import PairPlan, Problem, plan_pair, show, split_command
from bot.pairs.pairing import PairingOutcome, pair_people, send_messages, unpair_people
from handlers import concerns, digests, matching, tracks
from handlers.common import CommandContext, Subcommand, ephemeral, safe_lazy, tell, with_deps


def _help(ctx: CommandContext) -> None:
    ctx.ack(**ephemeral(help_text(roles_now(ctx.deps, user_id=ctx.user_id))))


def _status(ctx: CommandContext) -> None:
    with ctx.deps.read_sessions.begin() as session:
        text = status_text(session, deps=ctx.deps, user_id=ctx.user_id, now=ctx.deps.clock())
    ctx.ack(**ephemeral(text))


def _plan(ctx: CommandContext, verb: str) -> PairPlan | Problem:
    return _plan_for(ctx.deps, ctx.user_id, verb, ctx.args)


def _plan_for(deps: Deps, user_id: str, verb: str, args: list[str]) -> PairPlan | Problem:
    roles = roles_now(deps, user_id=user_id)
    return plan_pair(verb, args, roles=roles, programs=deps.programs)


def _ack_pairing(ctx: CommandContext, verb: str) -> None:
    """Parse and authorize at once; the Slack lookups, the write and the DMs follow after the ack."""
    plan = _plan(ctx, verb)
    if isinstance(plan, Problem):
        ctx.ack(**ephemeral(plan.message))
        return
    who = f"<@{plan.mentor_id}> (mentor) and <@{plan.mentee_id}> (mentee) in *{plan.program_id}*"
    ctx.ack(**ephemeral(f"{'Pairing' if verb == 'pair' else 'Ending the pairing of'} {who}…"))


def _pair(ctx: CommandContext) -> None:
    _ack_pairing(ctx, "pair")


def _unpair(ctx: CommandContext) -> None:
    _ack_pairing(ctx, "unpair")


def _pairing_after_ack(ctx: CommandContext, verb: str) -> None:
    plan = _plan(ctx, verb)
    program = ctx.deps.programs.get(plan.program_id) if isinstance(plan, PairPlan) else None
    if not isinstance(plan, PairPlan) or program is None:
        return  # the ack already said what was wrong
    who = {"mentor_id": plan.mentor_id, "mentee_id": plan.mentee_id, "actor_id": ctx.user_id}
    # Each service opens its own short write transaction: users.info before it, the DMs after it (_finish).
    if verb == "pair":
        outcome = pair_people(ctx.deps, program=program, now=ctx.deps.clock(), **who)
    else:
        outcome = unpair_people(ctx.deps, program=program, now=ctx.deps.clock(), **who)
    _finish(ctx, outcome)


def _pair_after_ack(ctx: CommandContext) -> None:
    _pairing_after_ack(ctx, "pair")


def _unpair_after_ack(ctx: CommandContext) -> None:
    _pairing_after_ack(ctx, "unpair")


def _finish(ctx: CommandContext, outcome: PairingOutcome) -> None:
    """DM both sides (after the commit), then tell the coordinator what happened."""
    failures = send_messages(
        ctx.client, outcome.messages, rate_per_second=ctx.deps.settings.send_rate_per_second
    )
    text = outcome.message
    if failures:
        text += f"\nI couldn't message {', '.join(failures)}: please let them know yourself."
    tell(text, respond=ctx.respond)


SUBCOMMANDS: dict[str, Subcommand] = {
    "help": _help,
    "status": _status,
    "pair": _pair,
    "unpair": _unpair,
    **concerns.MENTORSHIP_SUBCOMMANDS,
    **digests.MENTORSHIP_SUBCOMMANDS,
    **tracks.MENTORSHIP_SUBCOMMANDS,
    **matching.MENTORSHIP_SUBCOMMANDS,
}

# Work that calls Slack's Web API: run after the ack, in Bolt's lazy thread, with the same context.
AFTER_ACK: dict[str, Subcommand] = {
    "pair": _pair_after_ack,
    "unpair": _unpair_after_ack,
    **matching.MENTORSHIP_AFTER_ACK,
}


def register(app: App, *, deps: Deps) -> None:
    # Only requests with work after the ack take the lazy path; help, status and refusals stay a plain ack.
    app.command("/mentorship", middleware=[WorkAfterAck(deps)])(
        ack=with_deps(mentorship, deps), lazy=[safe_lazy(after_ack, deps=deps)]
    )
    app.command("/mentorship")(with_deps(mentorship, deps))


def _context(
    deps: Deps, ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient
) -> CommandContext:
    _, args = split_command(str(command.get("text", "")))
    return CommandContext(
        deps=deps,
        user_id=command["user_id"],
        channel_id=command.get("channel_id", ""),
        args=args,
        ack=ack,
        respond=respond,
        trigger_id=command.get("trigger_id", ""),
        client=client,
    )


def mentorship(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, *, deps: Deps) -> None:
    name, _ = split_command(str(command.get("text", "")))
    handler = SUBCOMMANDS.get(name)
    if handler is None:
        ack(**ephemeral(f"I don't know {show(name)}. Type `/mentorship help` to see what you can do."))
        return
    handler(_context(deps, ack, command, respond, client))


def after_ack(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, *, deps: Deps) -> None:
    name, _ = split_command(str(command.get("text", "")))
    AFTER_ACK[name](_context(deps, ack, command, respond, client))


class WorkAfterAck(Middleware):
    """Lets the lazy `/mentorship` listener take only requests with Slack calls to make after the ack;
    the others fall through to the plain one.

    A listener middleware that does not call next() passes the request on to the next listener, as a
    matcher would; as a Middleware subclass it costs no more than its check, while Bolt builds every
    listener argument (a Respond, a Say, ...) each time it calls a matcher function.
    """

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],  # noqa: A002
    ) -> BoltResponse | None:
        return next() if has_work_after_ack(req.body, deps=self.deps) else None


def has_work_after_ack(command: dict[str, Any], *, deps: Deps) -> bool:
    name, args = split_command(str(command.get("text", "")))
    if name not in AFTER_ACK:
        return False
    if name in ("pair", "unpair"):
        # Refused or mistyped requests stay a plain ack: no lazy thread, nothing that could write.
        return isinstance(_plan_for(deps, str(command.get("user_id", "")), name, args), PairPlan)
    return True
