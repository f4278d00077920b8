"""`/concern` for senders (anonymous), and the coordinators' side: list, reply, acknowledge, resolve.

The sender's user id is read from a request only to check enrolment and count the daily quota;
it is never stored, logged, or put into a view's private_metadata. Nothing is written to the
sender's DMs or channels: everything they see is a modal or an ephemeral reply.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.concerns import posting, raising, responders, sender
from bot.concerns.blocks import (
    ACTION_ACKNOWLEDGE,
    ACTION_REPLY,
    ACTION_RESOLVE,
    ACTION_SENDER_CLOSE,
    ACTION_SENDER_REPLY,
    CATEGORY_BLOCK,
    COORDINATOR_REPLY,
    INVOLVES_BLOCK,
    PROGRAM_BLOCK,
    REPLIES_BLOCK,
    SENDER_REPLY,
    SUBMIT,
    TEXT_ACTION,
    TEXT_BLOCK,
    URGENCY_BLOCK,
    concern_modal,
    confirmation_view,
    coordinator_reply_modal,
    list_blocks,
    reply_saved_view,
    sender_reply_modal,
    status_view,
)
from bot.concerns.raising import ConcernDraft
from bot.concerns.responders import Responder
from bot.concerns.sender_seal import seal
from bot.concerns.terms import CATEGORIES
from bot.kernel.authz import Action, NotAllowed, require
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from bot.kernel.roles import roles_of
from handlers.common import Body, CommandContext, Subcommand, ack_only, ephemeral, safe_lazy, with_deps
from storage.models import Concern

# The coordinators' buttons carry the concern id after a colon.
REPLY_BUTTONS = re.compile(f"^{ACTION_REPLY}:")
ACKNOWLEDGE_BUTTONS = re.compile(f"^{ACTION_ACKNOWLEDGE}:")
RESOLVE_BUTTONS = re.compile(f"^{ACTION_RESOLVE}:")
USAGE = "Type `/concern` to raise a concern anonymously, or `/concern status KEY` to read the replies to one."


# --- /concern -------------------------------------------------------------------------------------------


def _parse(text: str) -> tuple[str, str]:
    """("status", typed key) | ("help", "") | ("raise", text to prefill the form with)."""
    word, _, rest = text.strip().partition(" ")
    if word.lower() == "status":
        return "status", rest
    if word.lower() == "help":
        return "help", ""
    return "raise", text.strip()


def command_ack(ack: Ack, command: dict[str, str], *, deps: Deps) -> None:
    kind, rest = _parse(command.get("text", ""))
    if kind == "help":
        ack(**ephemeral(USAGE))
        return
    with deps.read_sessions.begin() as session:
        if kind == "status":
            # Malformed, wrong and unknown keys all take the same lookup and get the same answer.
            found = sender.find_by_key(session, deps=deps, typed=rest) is not None
            left = 1
        else:
            found = True
            roles = roles_of(session, programs=deps.programs, user_id=command["user_id"])
            require(roles, Action.CONCERN_RAISE)
            left = raising.concerns_left_today(deps, user_id=command["user_id"], now=deps.clock())
    if not found:
        ack(**ephemeral(sender.NEUTRAL_STATUS))
    elif left <= 0:
        ack(**ephemeral(raising.limit_message(deps)))
    else:
        ack()


def open_concern_view(command: dict[str, str], client: WebClient, *, deps: Deps) -> None:
    kind, rest = _parse(command.get("text", ""))
    if kind == "status":
        with deps.read_sessions.begin() as session:
            concern = sender.find_by_key(session, deps=deps, typed=rest)
            view = _status_view(deps, session, concern) if concern else None
    elif kind == "raise":
        view = _raise_form(deps, command["user_id"], prefill=rest)
    else:
        view = None
    if view is not None:
        client.views_open(trigger_id=command["trigger_id"], view=view)


def _raise_form(deps: Deps, user_id: str, *, prefill: str) -> dict[str, Any] | None:
    with deps.read_sessions.begin() as session:
        programs = raising.sender_programs(deps, roles_of(session, programs=deps.programs, user_id=user_id))
        if not programs or raising.concerns_left_today(deps, user_id=user_id, now=deps.clock()) <= 0:
            return None  # the ack already said why
        notes = raising.modal_notes(session, programs)
    metadata = json.dumps({"program": programs[0].id}) if len(programs) == 1 else ""
    return concern_modal(programs, notes, initial_text=prefill, metadata=metadata)


# --- the form -------------------------------------------------------------------------------------------


def _selected(values: Body, block_id: str) -> str | None:
    option = values.get(block_id, {}).get(block_id, {}).get("selected_option")
    return option.get("value") if isinstance(option, dict) else None


def _checked(values: Body, block_id: str) -> bool:
    return bool(values.get(block_id, {}).get(block_id, {}).get("selected_options"))


def _typed(view: Body) -> str | None:
    value = view["state"]["values"].get(TEXT_BLOCK, {}).get(TEXT_ACTION, {}).get("value")
    return value if isinstance(value, str) else None


def _chosen_program(view: Body, programs: list[Program]) -> str | None:
    mine = {p.id for p in programs}
    metadata = json.loads(view.get("private_metadata") or "{}")
    if "program" in metadata:
        if metadata["program"] not in mine:
            raise NotAllowed("You are no longer enrolled in that program, so the concern was not sent.")
        return str(metadata["program"])
    chosen = _selected(view["state"]["values"], PROGRAM_BLOCK)
    return chosen if chosen in mine else None


def _draft(view: Body, programs: list[Program]) -> tuple[ConcernDraft | None, dict[str, str]]:
    """The validated form, or field errors keyed by block id."""
    values = view["state"]["values"]
    program_id, category, text = (
        _chosen_program(view, programs),
        _selected(values, CATEGORY_BLOCK),
        _typed(view),
    )
    errors: dict[str, str] = {}
    if program_id is None:
        errors[PROGRAM_BLOCK] = "Please choose the program this is about."
    if category not in CATEGORIES:
        errors[CATEGORY_BLOCK] = "Please choose what the concern is about."
    problem = raising.text_problem(text)
    if problem:
        errors[TEXT_BLOCK] = problem
    if errors or program_id is None or category is None or text is None:
        return None, errors
    draft = ConcernDraft(
        program_id=program_id,
        category=category,
        urgent=_selected(values, URGENCY_BLOCK) == "urgent",
        involves_mentor_or_coordinator=_checked(values, INVOLVES_BLOCK),
        replies_allowed=_checked(values, REPLIES_BLOCK),
        text=text,
    )
    return draft, {}


def submit_concern(ack: Ack, body: Body, view: Body, *, deps: Deps) -> None:
    user_id = body["user"]["id"]  # for the enrolment check and the in-memory quota only
    with deps.sessions.begin() as session:
        roles = roles_of(session, programs=deps.programs, user_id=user_id)
        require(roles, Action.CONCERN_RAISE)
        draft, errors = _draft(view, raising.sender_programs(deps, roles))
        raised = None
        if draft is not None:
            raised = raising.raise_concern(session, deps=deps, draft=draft, user_id=user_id, now=deps.clock())
    if draft is None:
        ack(response_action="errors", errors=errors)
    elif raised is None:
        ack(response_action="errors", errors={TEXT_BLOCK: raising.limit_message(deps)})
    else:
        program = deps.programs.get(draft.program_id)
        assert program is not None  # _draft only accepts the sender's configured programs
        escalation = raising.escalation_label(program)
        ack(
            response_action="update",
            view=confirmation_view(raised.case_key, raised.route, escalation=escalation),
        )


# --- the sender's thread --------------------------------------------------------------------------------


def after_concern_stored(*, deps: Deps) -> None:
    raising.forget_commit_order(deps)
    posting.deliver_pending(deps, now=deps.clock())


def after_sender_reply(*, deps: Deps) -> None:
    raising.forget_commit_order(deps)


def _status_view(deps: Deps, session: Session, concern: Concern, *, notice: str = "") -> dict[str, Any]:
    thread = sender.thread(session, concern_id=concern.id)
    return status_view(concern, thread, sealed=seal(deps.keys, concern), notice=notice)


def submit_sender_reply(ack: Ack, view: Body, *, deps: Deps) -> None:
    text = _typed(view)
    problem = raising.text_problem(text)
    if problem or text is None:
        ack(response_action="errors", errors={TEXT_BLOCK: problem or ""})
        return
    try:
        with deps.sessions.begin() as session:
            concern = sender.sender_reply(
                session, deps=deps, sealed=view["private_metadata"], text=text, now=deps.clock()
            )
            notice = ":white_check_mark: Your reply was added — still anonymous."
            updated = _status_view(deps, session, concern, notice=notice)
    except NotAllowed as refusal:  # a forged or stale seal: nothing stored, nothing of the thread shown
        ack(response_action="errors", errors={TEXT_BLOCK: str(refusal)})
        return
    ack(response_action="update", view=updated)


def push_sender_reply(body: Body, client: WebClient) -> None:
    client.views_push(
        trigger_id=body["trigger_id"], view=sender_reply_modal(body["view"]["private_metadata"])
    )


def close_by_sender(body: Body, client: WebClient, *, deps: Deps) -> None:
    with deps.sessions.begin() as session:
        concern = sender.sender_close(
            session, deps=deps, sealed=body["view"]["private_metadata"], now=deps.clock()
        )
        view = _status_view(deps, session, concern, notice="You closed this case. Thank you for raising it.")
    client.views_update(view_id=body["view"]["id"], view=view)


# --- coordinators and escalation contacts ---------------------------------------------------------------


def _list(ctx: CommandContext) -> None:
    deps = ctx.deps
    with deps.read_sessions.begin() as session:
        roles = roles_of(session, programs=deps.programs, user_id=ctx.user_id)
        program = responders.coordinated_program(deps, roles, ctx.args)
        text, blocks = _listing(deps, session, program.id)
    ctx.ack(**ephemeral(text, blocks))


MENTORSHIP_SUBCOMMANDS: dict[str, Subcommand] = {"concerns": _list}


def _responder(body: Body) -> Responder:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
    return Responder(user_id=body["user"]["id"], channel_id=channel)


def _button(body: Body) -> tuple[str, str]:
    """(concern id, "list" | "post") from a responder button."""
    value = json.loads(body["actions"][0]["value"])
    return str(value["c"]), str(value["v"])


def open_coordinator_reply(body: Body, client: WebClient, respond: Respond, *, deps: Deps) -> None:
    concern_id, _where = _button(body)
    responder = _responder(body)
    with deps.sessions.begin() as session:  # a refusal reaches the person through safe_lazy
        concern, thread = responders.for_responder(
            session, deps=deps, concern_id=concern_id, responder=responder
        )
    metadata = json.dumps({"c": concern.id, "ch": responder.channel_id})
    client.views_open(
        trigger_id=body["trigger_id"], view=coordinator_reply_modal(concern, thread, metadata=metadata)
    )


def submit_coordinator_reply(ack: Ack, body: Body, view: Body, *, deps: Deps) -> None:
    text = _typed(view)
    problem = raising.text_problem(text)
    if problem or text is None:
        ack(response_action="errors", errors={TEXT_BLOCK: problem or ""})
        return
    metadata = json.loads(view["private_metadata"])
    responder = Responder(user_id=body["user"]["id"], channel_id=str(metadata.get("ch") or ""))
    with deps.sessions.begin() as session:
        responders.coordinator_reply(
            session,
            deps=deps,
            concern_id=str(metadata["c"]),
            responder=responder,
            text=text,
            now=deps.clock(),
        )
    ack(response_action="update", view=reply_saved_view())


def acknowledge_concern(body: Body, client: WebClient, respond: Respond, *, deps: Deps) -> None:
    _change_status(deps, body, client, respond, resolve=False)


def resolve_concern(body: Body, client: WebClient, respond: Respond, *, deps: Deps) -> None:
    _change_status(deps, body, client, respond, resolve=True)


def _change_status(deps: Deps, body: Body, client: WebClient, respond: Respond, *, resolve: bool) -> None:
    concern_id, where = _button(body)
    responder = _responder(body)
    change = responders.resolve if resolve else responders.acknowledge
    with deps.sessions.begin() as session:  # a refusal reaches the person through safe_lazy
        concern = change(session, deps=deps, concern_id=concern_id, responder=responder, now=deps.clock())
        listing = _listing(deps, session, concern.program_id) if where == "list" else None
    if listing is not None:
        respond(text=listing[0], blocks=listing[1], response_type="ephemeral", replace_original=True)
        return
    blocks, fallback = responders.redrawn_post(concern, deps)
    container = body.get("container") or {}
    client.chat_update(
        channel=container["channel_id"], ts=container["message_ts"], text=fallback, blocks=blocks
    )


def _listing(deps: Deps, session: Session, program_id: str) -> tuple[str, list[dict[str, Any]]]:
    program = deps.programs.get(program_id)
    if program is None:
        raise NotAllowed(f"Program `{program_id}` is no longer in programs.yml.")
    listed, summaries, total = responders.open_for_coordinators(session, program_id=program.id)
    return f"{total} open concern(s) in {program.name}", list_blocks(program, listed, summaries, total)


# --- wiring ---------------------------------------------------------------------------------------------


def register(app: App, *, deps: Deps) -> None:
    app.command("/concern")(ack=with_deps(command_ack, deps), lazy=[safe_lazy(open_concern_view, deps=deps)])
    app.view(SUBMIT)(ack=with_deps(submit_concern, deps), lazy=[safe_lazy(after_concern_stored, deps=deps)])
    app.view(SENDER_REPLY)(
        ack=with_deps(submit_sender_reply, deps), lazy=[safe_lazy(after_sender_reply, deps=deps)]
    )
    app.action(ACTION_SENDER_REPLY)(ack=ack_only, lazy=[safe_lazy(push_sender_reply)])
    app.action(ACTION_SENDER_CLOSE)(ack=ack_only, lazy=[safe_lazy(close_by_sender, deps=deps)])
    app.action(REPLY_BUTTONS)(ack=ack_only, lazy=[safe_lazy(open_coordinator_reply, deps=deps)])
    app.view(COORDINATOR_REPLY)(with_deps(submit_coordinator_reply, deps))
    app.action(ACKNOWLEDGE_BUTTONS)(ack=ack_only, lazy=[safe_lazy(acknowledge_concern, deps=deps)])
    app.action(RESOLVE_BUTTONS)(ack=ack_only, lazy=[safe_lazy(resolve_concern, deps=deps)])
