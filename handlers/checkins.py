"""`/checkin` (open, pause, resume), the prompt's wellbeing and Answer buttons, the answer modal and the
App Home pause/resume buttons.
"""

from __future__ import annotations

import json
import re
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
from bot.kernel.authz import Action, NotAllowed, authorize, require
from bot.kernel.deps import Deps
from bot.kernel.roles import roles_of
from handlers.common import ephemeral, pressed_on, safe_lazy
from storage.repositories import checkins as repo

WELLBEING_ACTION = re.compile(r"^checkin_wellbeing_[1-5]$")
USAGE = "`/checkin` opens your current check-in. " + pauses.USAGE
FIELD_BLOCKS = {"wellbeing": "wellbeing", "psych_score": "psych", "met_mentor": "met", "note": "note"}
FIELD_ERRORS = {
    "wellbeing": "Choose how you are doing, from 1 to 5.",
    "psych_score": "Choose how much you agree, from 1 to 7.",
    "met_mentor": "Choose yes or no.",
    "note": f"Keep the note under {blocks.NOTE_MAX} characters.",
}


def register(app: App, *, deps: Deps) -> None:
    app.command("/checkin")(ack=_command_ack(deps), lazy=[safe_lazy(_command_open(deps))])
    app.action(WELLBEING_ACTION)(ack=_ack_only, lazy=[safe_lazy(_wellbeing(deps))])
    app.action(blocks.OPEN_ACTION)(ack=_ack_only, lazy=[safe_lazy(_open_modal(deps))])
    app.view(blocks.ANSWER_CALLBACK)(ack=_submission_ack(deps), lazy=[safe_lazy(_submission_after(deps))])
    app.action(blocks.PAUSE_HOME_ACTION)(ack=_ack_only, lazy=[safe_lazy(_home_toggle(deps, pause=True))])
    app.action(blocks.RESUME_HOME_ACTION)(ack=_ack_only, lazy=[safe_lazy(_home_toggle(deps, pause=False))])


def _ack_only(ack: Ack) -> None:
    ack()


def _tell(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


# -- /checkin ----------------------------------------------------------------------------------------


def _command_ack(deps: Deps) -> Any:
    def checkin_command(ack: Ack, command: dict[str, str]) -> None:
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

    return checkin_command


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


def _command_open(deps: Deps) -> Any:
    def open_current_checkin(command: dict[str, str], client: WebClient, respond: Respond) -> None:
        if command.get("text", "").strip():
            return
        user_id, now = command["user_id"], deps.clock()
        with deps.read_sessions.begin() as session:
            current = repo.open_checkins(session, mentee_id=user_id, now=now)
        if current:
            _show_modal(
                deps,
                client,
                respond,
                checkin_id=current[0].id,
                user_id=user_id,
                trigger=command["trigger_id"],
            )

    return open_current_checkin


def _show_modal(
    deps: Deps, client: WebClient, respond: Respond, *, checkin_id: int, user_id: str, trigger: str
) -> None:
    try:
        view = modal_view(deps, checkin_id=checkin_id, user_id=user_id, now=deps.clock())
    except (NotAllowed, CheckinClosed) as exc:
        _tell(respond, str(exc))
        return
    client.views_open(trigger_id=trigger, view=view)


# -- the prompt's buttons ----------------------------------------------------------------------------


def _action_value(body: dict[str, Any]) -> str:
    return str(body["actions"][0].get("value") or "")


def _wellbeing(deps: Deps) -> Any:
    def record_quick_wellbeing(body: dict[str, Any], respond: Respond) -> None:
        checkin_id, _, score = _action_value(body).partition(":")
        user_id, now = body["user"]["id"], deps.clock()
        try:
            record_wellbeing(deps, checkin_id=int(checkin_id), user_id=user_id, score=int(score), now=now)
        except (NotAllowed, CheckinClosed) as exc:
            _tell(respond, str(exc))
            return
        after_answer(deps, checkin_id=int(checkin_id), now=now, pressed_on=pressed_on(body))

    return record_quick_wellbeing


def _open_modal(deps: Deps) -> Any:
    def open_answer_modal(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        checkin_id = int(_action_value(body))
        _show_modal(
            deps,
            client,
            respond,
            checkin_id=checkin_id,
            user_id=body["user"]["id"],
            trigger=body["trigger_id"],
        )

    return open_answer_modal


# -- the modal ---------------------------------------------------------------------------------------


def _checkin_id(view: dict[str, Any]) -> int:
    return int(json.loads(view.get("private_metadata") or "{}")["checkin_id"])


def _selected(values: dict[str, Any], block_id: str) -> str | None:
    state = values.get(block_id, {}).get(block_id, {})
    option = state.get("selected_option")
    if option:
        return str(option["value"])
    value = state.get("value")
    return None if value is None else str(value)


def parse_submission(view: dict[str, Any]) -> ModalAnswer:
    """The modal's state as a ModalAnswer; raises pydantic's ValidationError on bad values."""
    values = view.get("state", {}).get("values", {})
    met = _selected(values, "met")
    return ModalAnswer.model_validate(
        {
            "wellbeing": _selected(values, "wellbeing"),
            "psych_score": _selected(values, "psych"),
            "met_mentor": None if met is None else met == "1",
            "note": _selected(values, "note"),
        }
    )


def _submission_ack(deps: Deps) -> Any:
    def save_checkin_answer(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
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
                deps,
                checkin_id=_checkin_id(view),
                user_id=body["user"]["id"],
                answer=answer,
                now=deps.clock(),
            )
        except CheckinClosed as exc:
            ack(response_action="update", view=blocks.message_view("Check-in closed", str(exc)))
            return
        ack()

    return save_checkin_answer


def _submission_after(deps: Deps) -> Any:
    def after_checkin_answer(body: dict[str, Any], view: dict[str, Any]) -> None:
        checkin_id = _checkin_id(view)
        with deps.sessions.begin() as session:
            checkin = repo.get_checkin(session, checkin_id=checkin_id)
            answered = (
                checkin is not None
                and checkin.mentee_id == body["user"]["id"]
                and checkin.status == "answered"
            )
        if answered:
            after_answer(deps, checkin_id=checkin_id, now=deps.clock())

    return after_checkin_answer


# -- App Home ----------------------------------------------------------------------------------------


def _home_toggle(deps: Deps, *, pause: bool) -> Any:
    def toggle_checkin_pause(body: dict[str, Any], client: WebClient) -> None:
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

    return toggle_checkin_pause
