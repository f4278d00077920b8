"""`/reflect`, its modal, and the confirm / that's not right / add my reflection buttons."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.home.tab import build_home
from bot.kernel.authz import NotAllowed
from bot.kernel.deps import Deps
from bot.kernel.people import ensure_person
from bot.reflections.blocks import (
    CALLBACK_ID,
    CONFIRM_ACTION,
    DISPUTE_ACTION,
    NEW_SESSION,
    PAIR_ACTION,
    REFLECT_ACTION,
    SESSION_ACTION,
    input_block_ids,
    reflect_modal,
    saved_view,
)
from bot.reflections.notices import answer, refresh_notice, send_pending_notices
from bot.reflections.reflect import (
    NO_PAIR,
    FieldRefusal,
    Submitted,
    Target,
    caller_pairs,
    modal_spec,
    own_notes_text,
    submit_reflection,
)
from bot.reflections.terms import CONFIRMED, DISPUTED
from handlers.common import ephemeral, pressed_on, safe_lazy

USAGE = "Type `/reflect` to log a session, or `/reflect notes` to read your own recent notes."


def _ack_only(ack: Ack) -> None:
    ack()


def _session_id(body: dict[str, Any]) -> int:
    return int(body["actions"][0]["value"])


def _tell(body: dict[str, Any], client: WebClient, respond: Respond, text: str) -> None:
    """An ephemeral note to whoever pressed a button, wherever the button was."""
    user_id = body["user"]["id"]
    if body.get("response_url"):
        respond(text=text, response_type="ephemeral", replace_original=False)
    elif body.get("channel"):
        client.chat_postEphemeral(channel=body["channel"]["id"], user=user_id, text=text)
    else:  # the Home tab has neither a channel nor a response_url
        client.chat_postMessage(channel=user_id, text=text)


def _ack_errors(ack: Ack, view: dict[str, Any], errors: dict[str, str]) -> None:
    # Slack can only show an error next to an input block the view actually has.
    shown = input_block_ids(view)
    if all(block_id in shown for block_id in errors):
        ack(response_action="errors", errors=errors)
        return
    raise NotAllowed(next(message for block_id, message in errors.items() if block_id not in shown))


def register(app: App, *, deps: Deps) -> None:
    def ack_reflect(ack: Ack, command: dict[str, str]) -> None:
        user_id, words = command["user_id"], command.get("text", "").lower().split()
        with deps.read_sessions.begin() as session:
            if words[:1] == ["notes"]:
                ack(**ephemeral(own_notes_text(session, user_id=user_id, now=deps.clock())))
                return
            pairs = caller_pairs(session, deps=deps, user_id=user_id)
        if words:
            ack(**ephemeral(USAGE))
        elif not pairs:
            ack(**ephemeral(NO_PAIR))
        else:
            ack()

    def open_reflect_modal(command: dict[str, str], client: WebClient, respond: Respond) -> None:
        user_id, now = command["user_id"], deps.clock()
        if command.get("text", "").strip():
            return  # `/reflect notes`, or a typo: answered in the ack
        with deps.sessions.begin() as session:
            ensure_person(session, client=client, user_id=user_id, now=now)
        try:
            with deps.read_sessions.begin() as session:
                spec = modal_spec(session, deps=deps, user_id=user_id, now=now)
        except NotAllowed as refusal:
            respond(**ephemeral(str(refusal)))
            return
        if spec is None:
            respond(**ephemeral(NO_PAIR))
            return
        client.views_open(trigger_id=command["trigger_id"], view=reflect_modal(spec))

    def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            with deps.sessions.begin() as session:
                result = submit_reflection(
                    session, deps=deps, user_id=body["user"]["id"], view=view, now=deps.clock()
                )
        except FieldRefusal as refusal:
            result = Submitted(errors={refusal.block_id: refusal.message})
        if result.errors:
            _ack_errors(ack, view, result.errors)
            return
        ack(response_action="update", view=saved_view(result.message))

    def after_submit(body: dict[str, Any], view: dict[str, Any]) -> None:
        now = deps.clock()
        send_pending_notices(deps, user_id=body["user"]["id"], now=now)
        target = Target.from_view(view)
        if target.session_id is not None:
            refresh_notice(deps, session_id=target.session_id, now=now)

    def update_modal(body: dict[str, Any], client: WebClient) -> None:
        view, action = body["view"], body["actions"][0]
        chosen = (action.get("selected_option") or {}).get("value")
        target = Target.from_view(view)
        if action["action_id"] == PAIR_ACTION:
            pair_id, session_id = int(chosen) if chosen else None, None
        else:
            pair_id, session_id = target.pair_id, None if chosen in (None, NEW_SESSION) else int(chosen)
        with deps.read_sessions.begin() as session:
            spec = modal_spec(
                session,
                deps=deps,
                user_id=body["user"]["id"],
                now=deps.clock(),
                pair_id=pair_id,
                session_id=session_id,
            )
        if spec is None:
            return
        try:
            client.views_update(view_id=view["id"], hash=view.get("hash"), view=reflect_modal(spec))
        except SlackApiError as exc:
            if exc.response.get("error") != "hash_conflict":
                raise
            # A newer choice already replaced this view; its own update carries the latest state.

    def answer_with(status: str) -> Callable[..., None]:
        def answer_session_button(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
            user_id = body["user"]["id"]
            try:
                result = answer(
                    deps,
                    session_id=_session_id(body),
                    user_id=user_id,
                    status=status,
                    now=deps.clock(),
                    pressed_on=pressed_on(body),
                )
            except NotAllowed as refusal:
                _tell(body, client, respond, str(refusal))
                return
            if result.message:
                _tell(body, client, respond, result.message)
            if (body.get("view") or {}).get("type") == "home":
                with deps.read_sessions.begin() as session:
                    home = build_home(session, deps=deps, user_id=user_id, now=deps.clock())
                client.views_publish(user_id=user_id, view=home)

        answer_session_button.__name__ = f"answer_{status}"
        return answer_session_button

    def open_for_session(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        user_id, now = body["user"]["id"], deps.clock()
        with deps.sessions.begin() as session:
            ensure_person(session, client=client, user_id=user_id, now=now)
        try:
            with deps.read_sessions.begin() as session:
                spec = modal_spec(
                    session, deps=deps, user_id=user_id, now=now, session_id=_session_id(body), fixed=True
                )
        except NotAllowed as refusal:
            _tell(body, client, respond, str(refusal))
            return
        if spec is None:
            _tell(body, client, respond, NO_PAIR)
            return
        client.views_open(trigger_id=body["trigger_id"], view=reflect_modal(spec))

    app.command("/reflect")(ack=ack_reflect, lazy=[safe_lazy(open_reflect_modal)])
    app.view(CALLBACK_ID)(ack=submit, lazy=[safe_lazy(after_submit)])
    for action_id in (PAIR_ACTION, SESSION_ACTION):
        app.action(action_id)(ack=_ack_only, lazy=[safe_lazy(update_modal)])
    app.action(re.compile(rf"^{CONFIRM_ACTION}:\d+$"))(
        ack=_ack_only, lazy=[safe_lazy(answer_with(CONFIRMED))]
    )
    app.action(re.compile(rf"^{DISPUTE_ACTION}:\d+$"))(ack=_ack_only, lazy=[safe_lazy(answer_with(DISPUTED))])
    app.action(re.compile(rf"^{REFLECT_ACTION}:\d+$"))(ack=_ack_only, lazy=[safe_lazy(open_for_session)])
