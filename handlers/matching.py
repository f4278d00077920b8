"""Matching at the Slack edge: `/mentorship join` and `leave`, the profile modal, App Home's buttons, and the
coordinator's proposal modal (propose, pin, forbid, re-run, approve)."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.home.tab import build_home
from bot.kernel.authz import Action, require
from bot.kernel.deps import Deps
from bot.kernel.people import refresh_person
from bot.kernel.programs import Program
from bot.kernel.refusals import Refusal
from bot.kernel.roles import roles_now
from bot.matching.blocks import (
    APPROVE_ACTION,
    CLEAR_ACTION,
    JOIN_ACTIONS,
    LEAVE_ACTIONS,
    PAGE_ACTIONS,
    PAIR_MENUS,
    PIN_KIND,
    PIN_MENTEE,
    PIN_MENTOR,
    PROFILE_CALLBACK,
    PROPOSAL_CALLBACK,
    PROPOSE_ACTIONS,
    profile_modal,
    profile_saved_view,
    proposal_modal,
    read_metadata,
    working_view,
)
from bot.matching.form import read_profile_form
from bot.matching.pool import matching_program
from bot.matching.profiles import leave, profile_spec, program_to_join, program_to_leave, save_answers
from bot.matching.proposals import (
    PairChange,
    apply_change,
    approve,
    clear_changes,
    load_view,
    pair_change,
    program_of_proposal,
    propose,
)
from bot.pairs.pairing import send_messages
from bot.slack.blocks import message_modal
from bot.slack.view_state import state_values
from handlers.common import Body, CommandContext, Subcommand, ack_only, ephemeral, safe_lazy, tell, with_deps
from storage.repositories.matching import profiles_of

log = logging.getLogger("mentorbot.handlers.matching")

CHANGES = ("pin", "unpin", "forbid")


def register(app: App, *, deps: Deps) -> None:
    app.action(JOIN_ACTIONS)(ack=ack_only, lazy=[safe_lazy(open_profile_from_home, deps=deps)])
    app.action(LEAVE_ACTIONS)(ack=ack_only, lazy=[safe_lazy(leave_from_home, deps=deps)])
    app.view(PROFILE_CALLBACK)(ack=with_deps(submit_profile, deps), lazy=[safe_lazy(refresh_home, deps=deps)])
    app.action(PROPOSE_ACTIONS)(ack=ack_only, lazy=[safe_lazy(open_proposal, deps=deps)])
    app.action(PAIR_MENUS)(ack=ack_only, lazy=[safe_lazy(change_pair, deps=deps)])
    app.action(PAGE_ACTIONS)(ack=ack_only, lazy=[safe_lazy(turn_page, deps=deps)])
    app.action(CLEAR_ACTION)(ack=ack_only, lazy=[safe_lazy(clear_pins, deps=deps)])
    app.action(APPROVE_ACTION)(ack=ack_only, lazy=[safe_lazy(approve_proposal, deps=deps)])
    app.view(PROPOSAL_CALLBACK)(ack=with_deps(ack_rerun, deps), lazy=[safe_lazy(rerun, deps=deps)])


# -- /mentorship join and leave ------------------------------------------------------------------------


def _join(ctx: CommandContext) -> None:
    chosen = program_to_join(ctx.deps.programs, ctx.args)
    if isinstance(chosen, str):
        ctx.ack(**ephemeral(chosen))
        return
    ctx.ack()  # the modal opens after the ack


def _join_after_ack(ctx: CommandContext) -> None:
    chosen = program_to_join(ctx.deps.programs, ctx.args)
    if isinstance(chosen, Program):  # else the ack said what to type instead
        _open_profile(ctx.deps, ctx.client, user_id=ctx.user_id, trigger_id=ctx.trigger_id, program=chosen)


def _leave(ctx: CommandContext) -> None:
    with ctx.deps.sessions.begin() as session:
        joined = [profile.program_id for profile in profiles_of(session, user_id=ctx.user_id)]
        chosen = program_to_leave(ctx.deps.programs, ctx.args, joined=joined)
        if isinstance(chosen, str):
            ctx.ack(**ephemeral(chosen))
            return
        text = leave(session, program=chosen, user_id=ctx.user_id, now=ctx.deps.clock())
    ctx.ack(**ephemeral(text))


MENTORSHIP_SUBCOMMANDS: dict[str, Subcommand] = {"join": _join, "leave": _leave}
MENTORSHIP_AFTER_ACK: dict[str, Subcommand] = {"join": _join_after_ack}


def _open_profile(deps: Deps, client: WebClient, *, user_id: str, trigger_id: str, program: Program) -> None:
    refresh_person(deps, user_id=user_id, now=deps.clock())  # users.info before any write, never inside one
    with deps.read_sessions.begin() as session:
        spec = profile_spec(session, program=program, user_id=user_id)
    client.views_open(trigger_id=trigger_id, view=profile_modal(spec))


# -- the profile modal and App Home's buttons ----------------------------------------------------------


def _home_program(deps: Deps, body: Body) -> Program:
    return matching_program(deps.programs, str(body["actions"][0].get("value") or ""))


def open_profile_from_home(body: Body, client: WebClient, *, deps: Deps) -> None:
    program = _home_program(deps, body)
    _open_profile(deps, client, user_id=body["user"]["id"], trigger_id=body["trigger_id"], program=program)


def leave_from_home(body: Body, client: WebClient, *, deps: Deps) -> None:
    program, user_id = _home_program(deps, body), body["user"]["id"]
    with deps.sessions.begin() as session:
        text = leave(session, program=program, user_id=user_id, now=deps.clock())
    tell(text, respond=None, body=body, client=client)
    refresh_home(body, client, deps=deps)


def submit_profile(ack: Ack, body: Body, view: Body, *, deps: Deps) -> None:
    program = deps.programs.get(str(view.get("private_metadata") or ""))
    if program is None or program.matching is None:
        gone = "This program no longer matches people, so nothing was saved."
        ack(response_action="update", view=message_modal("Matching profile", gone))
        return
    answers = read_profile_form(view, focus_areas=program.matching.focus_areas)
    if isinstance(answers, dict):
        ack(response_action="errors", errors=answers)
        return
    with deps.sessions.begin() as session:
        save_answers(session, program=program, user_id=body["user"]["id"], answers=answers, now=deps.clock())
    ack(response_action="update", view=profile_saved_view(program.name, answers.role))


def refresh_home(body: Body, client: WebClient, *, deps: Deps) -> None:
    """Redraw the person's Home tab, whose matching buttons just changed."""
    user_id = body["user"]["id"]
    with deps.read_sessions.begin() as session:
        home = build_home(session, deps=deps, user_id=user_id, now=deps.clock())
    client.views_publish(user_id=user_id, view=home)


# -- the coordinator's proposal ------------------------------------------------------------------------


def _coordinated(deps: Deps, *, user_id: str, program_id: str) -> Program:
    """The program, once the policy allows this user to run its matching; a Refusal otherwise."""
    program = matching_program(deps.programs, program_id)
    require(roles_now(deps, user_id=user_id), Action.MATCH_PROPOSE, program_id=program_id)
    return program


def open_proposal(body: Body, client: WebClient, *, deps: Deps) -> None:
    user_id = body["user"]["id"]
    program = _coordinated(deps, user_id=user_id, program_id=str(body["actions"][0].get("value") or ""))
    # Open at once while the trigger is fresh (3 s); solving may take longer.
    opened = client.views_open(trigger_id=body["trigger_id"], view=working_view(f"Matching {program.name}…"))
    proposal = propose(deps, program=program, actor_id=user_id, now=deps.clock())
    client.views_update(view_id=opened["view"]["id"], view=proposal_modal(proposal))


def _rerun_into(deps: Deps, client: WebClient, *, view_id: str, program: Program, user_id: str) -> None:
    proposal = propose(deps, program=program, actor_id=user_id, now=deps.clock())
    client.views_update(view_id=view_id, view=proposal_modal(proposal))


def change_pair(body: Body, client: WebClient, *, deps: Deps) -> None:
    user_id, action = body["user"]["id"], body["actions"][0]
    kind, _, row = str((action.get("selected_option") or {}).get("value") or "").partition(":")
    if kind not in CHANGES or not row.isdigit():
        return  # not an option this menu offers
    program_id, change = pair_change(deps, row_id=int(row), kind=kind)
    program = _coordinated(deps, user_id=user_id, program_id=program_id)
    client.views_update(view_id=body["view"]["id"], view=working_view(f"{kind.capitalize()} and re-run…"))
    apply_change(deps, program=program, change=change, actor_id=user_id, now=deps.clock())
    _rerun_into(deps, client, view_id=body["view"]["id"], program=program, user_id=user_id)


def _proposal_program(deps: Deps, body: Body, proposal_id: int) -> Program:
    return _coordinated(
        deps, user_id=body["user"]["id"], program_id=program_of_proposal(deps, proposal_id=proposal_id)
    )


def turn_page(body: Body, client: WebClient, *, deps: Deps) -> None:
    proposal_id, _ = read_metadata(body["view"])
    program = _proposal_program(deps, body, proposal_id)
    with deps.read_sessions.begin() as session:
        proposal = load_view(session, program=program, proposal_id=proposal_id)
    page = int(body["actions"][0].get("value") or 0)
    client.views_update(view_id=body["view"]["id"], view=proposal_modal(proposal, page=page))


def clear_pins(body: Body, client: WebClient, *, deps: Deps) -> None:
    program = _proposal_program(deps, body, int(body["actions"][0]["value"]))
    user_id = body["user"]["id"]
    clear_changes(deps, program=program, actor_id=user_id, now=deps.clock())
    _rerun_into(deps, client, view_id=body["view"]["id"], program=program, user_id=user_id)


def approve_proposal(body: Body, client: WebClient, *, deps: Deps) -> None:
    proposal_id, user_id, view_id = int(body["actions"][0]["value"]), body["user"]["id"], body["view"]["id"]
    program = _proposal_program(deps, body, proposal_id)
    client.views_update(view_id=view_id, view=working_view("Approving…"))
    result = approve(deps, program=program, proposal_id=proposal_id, actor_id=user_id, now=deps.clock())
    if not result.ok:
        with deps.read_sessions.begin() as session:
            proposal = load_view(session, program=program, proposal_id=proposal_id)
        client.views_update(view_id=view_id, view=proposal_modal(proposal, notice=result.message))
        return
    # The pairs are committed: the welcome DMs go out whatever happens to the modal.
    failures = send_messages(client, result.messages, rate_per_second=deps.settings.send_rate_per_second)
    text = result.message + " Both sides of each pair got a welcome message saying why they were matched."
    if failures:
        text += f"\nI couldn't message {', '.join(failures)}: please let them know yourself."
    _show_result(client, body, view_id=view_id, text=text)


def _show_result(client: WebClient, body: Body, *, view_id: str, text: str) -> None:
    try:
        client.views_update(view_id=view_id, view=working_view(text))
    except SlackApiError as exc:  # the modal was closed meanwhile: say it in a DM instead
        log.info("proposal modal gone (%s); telling the coordinator by DM", exc.response.get("error"))
        tell(text, respond=None, body=body, client=client)


def ack_rerun(ack: Ack, body: Body, view: Body, *, deps: Deps) -> None:
    values = state_values(view)
    mentor, mentee = values.get(PIN_MENTOR), values.get(PIN_MENTEE)
    if bool(mentor) != bool(mentee):
        ack(
            response_action="errors",
            errors={PIN_MENTEE if mentor else PIN_MENTOR: "Choose both people, or neither."},
        )
        return
    if mentor and mentor == mentee:
        ack(response_action="errors", errors={PIN_MENTEE: "Choose two different people."})
        return
    ack(response_action="update", view=working_view("Re-running…"))


def rerun(body: Body, view: Body, client: WebClient, *, deps: Deps) -> None:
    user_id = body["user"]["id"]
    proposal_id, _ = read_metadata(view)
    try:
        program = _proposal_program(deps, body, proposal_id)
    except Refusal as refusal:  # the modal shows "Re-running…": put the refusal there
        client.views_update(view_id=view["id"], view=working_view(str(refusal)))
        return
    values = state_values(view)
    mentor, mentee, kind = values.get(PIN_MENTOR), values.get(PIN_MENTEE), values.get(PIN_KIND) or "pin"
    if mentor and mentee and kind in CHANGES:
        change = PairChange(kind, str(mentor), str(mentee))
        apply_change(deps, program=program, change=change, actor_id=user_id, now=deps.clock())
    _rerun_into(deps, client, view_id=view["id"], program=program, user_id=user_id)
