"""`/checkin` (open, pause, resume), the prompt's wellbeing and Answer buttons, the answer modal and the
App Home pause/resume buttons.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.checkins import blocks, pauses
from bot.checkins.answers import (
    CheckinClosed,
    ModalAnswer,
    after_answer,
    modal_view,
    record_answer,
    record_wellbeing,
    zone_for,
)
from bot.checkins.home import next_checkin_line
from bot.home.tab import build_home
from bot.kernel.authz import Action, authorize, require
from bot.kernel.deps import Deps
from bot.kernel.roles import roles_of
from handlers.common import Body, ack_only, ephemeral, pressed_on, safe_lazy, with_deps
from storage.repositories import checkins as repo

USAGE = "`/checkin` opens your current check-in. " + pauses.USAGE
# ModalAnswer's fields -> the modal's input blocks, where Slack shows a field's error.
FIELD_BLOCKS = {
    "wellbeing": blocks.WELLBEING_INPUT,
    "psych_score": blocks.PSYCH_INPUT,
    "met_mentor": blocks.MET_INPUT,
    "note": blocks.NOTE_INPUT,
}
FIELD_ERRORS = {
    "wellbeing": "Choose how you are doing, from 1 to 5.",
    "psych_score": "Choose how much you agree, from 1 to 7.",
    "met_mentor": "Choose yes or no.",
    "note": f"Keep the note under {blocks.NOTE_MAX} characters.",
}


def register(app: App, *, deps: Deps) -> None:
    app.command("/checkin")(
        ack=with_deps(checkin_command, deps), lazy=[safe_lazy(open_current_checkin, deps=deps)]
    )
    app.action(blocks.WELLBEING_ACTIONS)(ack=ack_only, lazy=[safe_lazy(record_quick_wellbeing, deps=deps)])
    app.action(blocks.OPEN_ACTION)(ack=ack_only, lazy=[safe_lazy(open_answer_modal, deps=deps)])
    app.view(blocks.ANSWER_CALLBACK)(
        ack=with_deps(save_checkin_answer, deps), lazy=[safe_lazy(after_checkin_answer, deps=deps)]
    )
    app.action(blocks.PAUSE_HOME_ACTION)(ack=ack_only, lazy=[safe_lazy(pause_from_home, deps=deps)])
    app.action(blocks.RESUME_HOME_ACTION)(ack=ack_only, lazy=[safe_lazy(resume_from_home, deps=deps)])


# -- /checkin ----------------------------------------------------------------------------------------


def checkin_command(ack: Ack, command: dict[str, str], *, deps: Deps) -> None:
    user_id, words = command["user_id"], command.get("text", "").split()
    name = words[0].lower() if words else ""
    if name in ("pause", "resume"):
        ack(**ephemeral(_pause_or_resume(deps, user_id=user_id, words=words)))
    elif name == "":
        ack(**ephemeral(_open_or_next(deps, user_id=user_id)))
    elif name == "help":
        ack(**ephemeral(USAGE))
    else:
        ack(**ephemeral(f"I don't know `/checkin {name[:30]}`. {USAGE}"))


def _pause_or_resume(deps: Deps, *, user_id: str, words: list[str]) -> str:
    now = deps.clock()
    with deps.sessions.begin() as session:
        require(roles_of(session, programs=deps.programs, user_id=user_id), Action.CHECKIN_PAUSE)
        if words[0].lower() == "resume":
            return pauses.resume(session, person_id=user_id, now=now)
        zone = zone_for(session, programs=deps.programs, user_id=user_id, program_id=None)
        try:
            until = pauses.parse_pause(words[1:], now=now, zone=zone)
        except pauses.PauseError as exc:
            return str(exc)
        return pauses.pause(session, person_id=user_id, now=now, until=until, zone=zone)


def _open_or_next(deps: Deps, *, user_id: str) -> str:
    """The ack text for a bare /checkin: the modal opens after the ack when a check-in is open."""
    now = deps.clock()
    with deps.read_sessions.begin() as session:
        require(roles_of(session, programs=deps.programs, user_id=user_id), Action.CHECKIN_OPEN)
        if repo.open_checkins(session, mentee_id=user_id, now=now):
            return "Opening your check-in…"
        line = next_checkin_line(session, deps=deps, user_id=user_id, now=now)
    return line or "You have no check-ins scheduled."


def open_current_checkin(command: dict[str, str], client: WebClient, respond: Respond, *, deps: Deps) -> None:
    """Open the modal after the ack; `respond` is how safe_lazy tells a refusal (not yours, closed)."""
    if command.get("text", "").strip():
        return
    user_id, now = command["user_id"], deps.clock()
    with deps.read_sessions.begin() as session:
        current = repo.open_checkins(session, mentee_id=user_id, now=now)
    if current:
        _show_modal(deps, client, checkin_id=current[0].id, user_id=user_id, trigger=command["trigger_id"])


def _show_modal(deps: Deps, client: WebClient, *, checkin_id: int, user_id: str, trigger: str) -> None:
    """Open the answer modal; a refusal (not yours, closed) reaches the person through safe_lazy."""
    view = modal_view(deps, checkin_id=checkin_id, user_id=user_id, now=deps.clock())
    client.views_open(trigger_id=trigger, view=view)


# -- the prompt's buttons ----------------------------------------------------------------------------


def _action_value(body: Body) -> str:
    return str(body["actions"][0].get("value") or "")


def record_quick_wellbeing(body: Body, respond: Respond, *, deps: Deps) -> None:
    checkin_id, _, score = _action_value(body).partition(":")
    user_id, now = body["user"]["id"], deps.clock()
    # A refusal (not yours, closed) reaches the person through safe_lazy.
    record_wellbeing(deps, checkin_id=int(checkin_id), user_id=user_id, score=int(score), now=now)
    after_answer(deps, checkin_id=int(checkin_id), now=now, pressed_on=pressed_on(body))


def open_answer_modal(body: Body, client: WebClient, respond: Respond, *, deps: Deps) -> None:
    checkin_id = int(_action_value(body))
    _show_modal(deps, client, checkin_id=checkin_id, user_id=body["user"]["id"], trigger=body["trigger_id"])


# -- the modal ---------------------------------------------------------------------------------------


def _checkin_id(view: Body) -> int:
    return int(json.loads(view.get("private_metadata") or "{}")["checkin_id"])


def _selected(values: dict[str, Any], block_id: str) -> str | None:
    state = values.get(block_id, {}).get(block_id, {})
    option = state.get("selected_option")
    if option:
        return str(option["value"])
    value = state.get("value")
    return None if value is None else str(value)


def parse_submission(view: Body) -> ModalAnswer:
    """The modal's state as a ModalAnswer; raises pydantic's ValidationError on bad values."""
    values = view.get("state", {}).get("values", {})
    met = _selected(values, blocks.MET_INPUT)
    return ModalAnswer.model_validate(
        {
            "wellbeing": _selected(values, blocks.WELLBEING_INPUT),
            "psych_score": _selected(values, blocks.PSYCH_INPUT),
            "met_mentor": None if met is None else met == "1",
            "note": _selected(values, blocks.NOTE_INPUT),
        }
    )


def save_checkin_answer(ack: Ack, body: Body, view: Body, *, deps: Deps) -> None:
    try:
        answer = parse_submission(view)
    except ValidationError as exc:
        fields = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        ack(
            response_action="errors",
            errors={FIELD_BLOCKS[f]: FIELD_ERRORS[f] for f in fields if f in FIELD_BLOCKS},
        )
        return
    try:
        record_answer(
            deps, checkin_id=_checkin_id(view), user_id=body["user"]["id"], answer=answer, now=deps.clock()
        )
    except CheckinClosed as exc:
        ack(response_action="update", view=blocks.message_view("Check-in closed", str(exc)))
        return
    ack()


def after_checkin_answer(body: Body, view: Body, *, deps: Deps) -> None:
    checkin_id = _checkin_id(view)
    with deps.sessions.begin() as session:
        checkin = repo.get_checkin(session, checkin_id=checkin_id)
        answered = (
            checkin is not None and checkin.mentee_id == body["user"]["id"] and checkin.status == "answered"
        )
    if answered:
        after_answer(deps, checkin_id=checkin_id, now=deps.clock())


# -- App Home ----------------------------------------------------------------------------------------


def pause_from_home(body: Body, client: WebClient, *, deps: Deps) -> None:
    _toggle_from_home(deps, body, client, pause=True)


def resume_from_home(body: Body, client: WebClient, *, deps: Deps) -> None:
    _toggle_from_home(deps, body, client, pause=False)


def _toggle_from_home(deps: Deps, body: Body, client: WebClient, *, pause: bool) -> None:
    user_id, now = body["user"]["id"], deps.clock()
    with deps.sessions.begin() as session:
        roles = roles_of(session, programs=deps.programs, user_id=user_id)
        # No longer a mentee (the button was on an old view): the refreshed Home shows no button.
        if not authorize(roles, Action.CHECKIN_PAUSE).allowed:
            pass
        elif pause:
            zone = zone_for(session, programs=deps.programs, user_id=user_id, program_id=None)
            pauses.pause(session, person_id=user_id, now=now, until=now + pauses.HOME_PAUSE, zone=zone)
        else:
            pauses.resume(session, person_id=user_id, now=now)
    with deps.sessions.begin() as session:
        view = build_home(session, deps=deps, user_id=user_id, now=now)
    client.views_publish(user_id=user_id, view=view)
