"""`/reflect`, its modal, and the confirm / that's not right / add my reflection buttons."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.home.tab import build_home
from bot.kernel.authz import NotAllowed
from bot.kernel.deps import Deps
from bot.kernel.people import refresh_person
from bot.reflections.blocks import (
    CALLBACK_ID,
    CONFIRM_ACTIONS,
    DISPUTE_ACTIONS,
    NEW_SESSION,
    PAIR_ACTION,
    REFLECT_ACTIONS,
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
    suggested_pairs,
)
from bot.reflections.terms import CONFIRMED, DISPUTED
from handlers.common import Body, ack_only, ephemeral, pressed_on, safe_lazy, tell, with_deps

USAGE = "Type `/reflect` to log a session, or `/reflect notes` to read your own recent notes."


def register(app: App, *, deps: Deps) -> None:
    app.command("/reflect")(ack=with_deps(ack_reflect, deps), lazy=[safe_lazy(open_reflect_modal, deps=deps)])
    app.view(CALLBACK_ID)(
        ack=with_deps(submit_reflection_form, deps), lazy=[safe_lazy(after_submit, deps=deps)]
    )
    app.action(PAIR_ACTION)(ack=ack_only, lazy=[safe_lazy(update_modal, deps=deps)])
    app.options(PAIR_ACTION)(with_deps(suggest_pairs, deps))
    app.action(SESSION_ACTION)(ack=ack_only, lazy=[safe_lazy(update_modal, deps=deps)])
    app.action(CONFIRM_ACTIONS)(ack=ack_only, lazy=[safe_lazy(confirm_session, deps=deps)])
    app.action(DISPUTE_ACTIONS)(ack=ack_only, lazy=[safe_lazy(dispute_session, deps=deps)])
    app.action(REFLECT_ACTIONS)(ack=ack_only, lazy=[safe_lazy(open_for_session, deps=deps)])


# -- /reflect and its modal ---------------------------------------------------------------------------


def ack_reflect(ack: Ack, command: dict[str, str], *, deps: Deps) -> None:
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


def suggest_pairs(ack: Ack, body: Body, *, deps: Deps) -> None:
    """Options for the pair select once a person has more pairs than a static select holds."""
    with deps.read_sessions.begin() as session:
        options = suggested_pairs(
            session, deps=deps, user_id=body["user"]["id"], query=body.get("value") or ""
        )
    ack(options=options)


def open_reflect_modal(command: dict[str, str], client: WebClient, respond: Respond, *, deps: Deps) -> None:
    user_id, now = command["user_id"], deps.clock()
    if command.get("text", "").strip():
        return  # `/reflect notes`, or a typo: answered in the ack
    refresh_person(deps, user_id=user_id, now=now)  # users.info before any write, never inside one
    with deps.read_sessions.begin() as session:  # a refusal reaches the person through safe_lazy
        spec = modal_spec(session, deps=deps, user_id=user_id, now=now)
    if spec is None:
        tell(NO_PAIR, respond=respond)
        return
    client.views_open(trigger_id=command["trigger_id"], view=reflect_modal(spec))


def submit_reflection_form(ack: Ack, body: Body, view: Body, *, deps: Deps) -> None:
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


def _ack_errors(ack: Ack, view: Body, errors: dict[str, str]) -> None:
    # Slack can only show an error next to an input block the view actually has.
    shown = input_block_ids(view)
    if all(block_id in shown for block_id in errors):
        ack(response_action="errors", errors=errors)
        return
    raise NotAllowed(next(message for block_id, message in errors.items() if block_id not in shown))


def after_submit(body: Body, view: Body, *, deps: Deps) -> None:
    now = deps.clock()
    send_pending_notices(deps, user_id=body["user"]["id"], now=now)
    target = Target.from_view(view)
    if target.session_id is not None:
        refresh_notice(deps, session_id=target.session_id, now=now)


def update_modal(body: Body, client: WebClient, *, deps: Deps) -> None:
    """Redraw the modal for the pair or session just chosen."""
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


# -- the session buttons (DM and App Home) ----------------------------------------------------------


def _session_id(body: Body) -> int:
    return int(body["actions"][0]["value"])


def confirm_session(body: Body, client: WebClient, respond: Respond, *, deps: Deps) -> None:
    _answer_session(deps, body, client, respond, status=CONFIRMED)


def dispute_session(body: Body, client: WebClient, respond: Respond, *, deps: Deps) -> None:
    _answer_session(deps, body, client, respond, status=DISPUTED)


def _answer_session(deps: Deps, body: Body, client: WebClient, respond: Respond, *, status: str) -> None:
    """Confirm or dispute as the session's other side; a refusal reaches the person through safe_lazy."""
    user_id = body["user"]["id"]
    result = answer(
        deps,
        session_id=_session_id(body),
        user_id=user_id,
        status=status,
        now=deps.clock(),
        pressed_on=pressed_on(body),
    )
    if result.message:
        tell(result.message, respond=respond, body=body, client=client)
    if (body.get("view") or {}).get("type") == "home":
        with deps.read_sessions.begin() as session:
            home = build_home(session, deps=deps, user_id=user_id, now=deps.clock())
        client.views_publish(user_id=user_id, view=home)


def open_for_session(body: Body, client: WebClient, respond: Respond, *, deps: Deps) -> None:
    user_id, now = body["user"]["id"], deps.clock()
    refresh_person(deps, user_id=user_id, now=now)  # users.info before any write, never inside one
    with deps.read_sessions.begin() as session:  # a refusal reaches the person through safe_lazy
        spec = modal_spec(
            session, deps=deps, user_id=user_id, now=now, session_id=_session_id(body), fixed=True
        )
    if spec is None:
        tell(NO_PAIR, respond=respond, body=body, client=client)
        return
    client.views_open(trigger_id=body["trigger_id"], view=reflect_modal(spec))
