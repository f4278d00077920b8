"""Tracks at the Slack edge: `/mentorship track`, "Log a session on this", and the attestation forms."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.kernel.authz import NotAllowed
from bot.kernel.deps import Deps
from bot.kernel.people import refresh_person
from bot.kernel.roles import roles_of
from bot.pairs.commands import Problem
from bot.pairs.pairing import send_messages
from bot.reflections.blocks import reflect_modal
from bot.reflections.reflect import NO_PAIR, modal_spec
from bot.tracks import attest
from bot.tracks.blocks import (
    ATTEST_ACTIONS,
    ATTEST_CALLBACK,
    LOG_ACTIONS,
    RETURN_ACTIONS,
    RETURN_CALLBACK,
    attest_modal,
    attestation_request,
    signed_view,
)
from bot.tracks.enrol import Plan, enrol, plan_command
from bot.tracks.topics import topic_prefill
from handlers.common import Body, CommandContext, Subcommand, ack_only, ephemeral, safe_lazy, tell, with_deps


def register(app: App, *, deps: Deps) -> None:
    app.action(LOG_ACTIONS)(ack=ack_only, lazy=[safe_lazy(open_reflect_on_topic, deps=deps)])
    app.action(ATTEST_ACTIONS)(ack=ack_only, lazy=[safe_lazy(open_attest_form, deps=deps)])
    app.action(RETURN_ACTIONS)(ack=ack_only, lazy=[safe_lazy(open_return_form, deps=deps)])
    app.view(ATTEST_CALLBACK)(ack=with_deps(submit_form, deps), lazy=[safe_lazy(after_submit, deps=deps)])
    app.view(RETURN_CALLBACK)(ack=with_deps(submit_form, deps), lazy=[safe_lazy(after_submit, deps=deps)])


# -- /mentorship track ------------------------------------------------------------------------------------


@cache
def _after_ack() -> ThreadPoolExecutor:
    # `/mentorship` is one Bolt listener shared by every subcommand: the enrolment and its DMs run on this
    # small pool once the ack has gone out (as the digest preview does).
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="track-enrol")


def _plan(ctx: CommandContext) -> Plan | Problem:
    with ctx.deps.read_sessions.begin() as session:
        roles = roles_of(session, programs=ctx.deps.programs, user_id=ctx.user_id)
        return plan_command(session, deps=ctx.deps, roles=roles, args=ctx.args)


def _track(ctx: CommandContext) -> None:
    plan = _plan(ctx)
    if isinstance(plan, Problem):
        ctx.ack(**ephemeral(plan.message))
        return
    ctx.ack(**ephemeral(f"Enrolling <@{plan.person_id}> on *{plan.track.name}*…"))
    _after_ack().submit(safe_lazy(_enrol_after_ack), deps=ctx.deps, plan=plan, ctx=ctx, respond=ctx.respond)


def _enrol_after_ack(deps: Deps, plan: Plan, ctx: CommandContext, respond: Respond) -> None:
    outcome = enrol(deps, plan=plan, actor_id=ctx.user_id, now=deps.clock())
    failures = send_messages(ctx.client, outcome.messages, rate_per_second=deps.settings.send_rate_per_second)
    text = outcome.message
    if failures:
        text += f"\nI couldn't message {', '.join(failures)}: please let them know yourself."
    tell(text, respond=respond)


MENTORSHIP_SUBCOMMANDS: dict[str, Subcommand] = {"track": _track}


# -- "Log a session on this" -----------------------------------------------------------------------------


def _milestone_id(body: Body) -> int:
    return int(body["actions"][0]["value"])


def open_reflect_on_topic(body: Body, client: WebClient, respond: Respond, *, deps: Deps) -> None:
    """/reflect's modal for the pair the topic is about, with its /reflect topic chosen."""
    user_id, now = body["user"]["id"], deps.clock()
    refresh_person(deps, user_id=user_id, now=now)  # users.info before any write, never inside one
    with deps.read_sessions.begin() as session:
        prefill = topic_prefill(session, milestone_id=_milestone_id(body), user_id=user_id)
        spec = modal_spec(
            session,
            deps=deps,
            user_id=user_id,
            now=now,
            pair_id=prefill.pair_id,
            topics=prefill.topics,
            about=prefill.about,
        )
    if spec is None:
        tell(NO_PAIR, respond=respond, body=body, client=client)
        return
    client.views_open(trigger_id=body["trigger_id"], view=reflect_modal(spec))


# -- attestation -----------------------------------------------------------------------------------------


def open_attest_form(body: Body, client: WebClient, respond: Respond, *, deps: Deps) -> None:
    with deps.read_sessions.begin() as session:
        form = attest.attest_form(
            session, deps=deps, milestone_id=_milestone_id(body), user_id=body["user"]["id"]
        )
    client.views_open(trigger_id=body["trigger_id"], view=attest_modal(form))


def open_return_form(body: Body, client: WebClient, respond: Respond, *, deps: Deps) -> None:
    with deps.read_sessions.begin() as session:
        view = attest.return_form(
            session, deps=deps, milestone_id=_milestone_id(body), user_id=body["user"]["id"]
        )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def submit_form(ack: Ack, body: Body, view: Body, *, deps: Deps) -> None:
    try:
        with deps.sessions.begin() as session:
            result = attest.submit(
                session, deps=deps, user_id=body["user"]["id"], view=view, now=deps.clock()
            )
    except (NotAllowed, attest.AttestationRefused) as refusal:
        ack(response_action="update", view=signed_view(str(refusal)))
        return
    if result.errors:
        ack(response_action="errors", errors=result.errors)
        return
    ack(response_action="update", view=signed_view(result.message))


def after_submit(body: Body, view: Body, client: WebClient, *, deps: Deps) -> None:
    """Bring the supervisor's DM up to date with the signature (after the write has committed)."""
    milestone_id = attest.milestone_of(view)
    if milestone_id is None:
        return
    with deps.read_sessions.begin() as session:
        channel, ts, request = attest.request_view(session, deps=deps, milestone_id=milestone_id)
    if channel and ts:
        text, blocks = attestation_request(request)
        client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
