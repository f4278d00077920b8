"""Block Kit for reflections: the /reflect modal, the confirmation DM and small shared pieces."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from typing import Any

from bot.ideas.blocks import link_input
from bot.reflections.terms import (
    CONFIRMED,
    DISPUTED,
    FORMATS,
    LEVELS,
    MAX_AGE_DAYS,
    MAX_MINUTES,
    MAX_TEXT,
    MIN_MINUTES,
    PENDING,
    SHARING,
    TOPICS,
    competency_label,
    short_day,
)
from bot.slack import blocks as kit
from bot.slack.blocks import Block, Element, TextObject, View, actions, context, section
from bot.slack.caps import MAX_OPTIONS

CALLBACK_ID = "reflect"
SAVED_CALLBACK = "reflect_saved"
PAIR_ACTION = "reflect_pair"
SESSION_ACTION = "reflect_session"
# The session buttons' action ids carry the session id after a colon: unique within a view.
CONFIRM_ACTION = "session_confirm"
DISPUTE_ACTION = "session_dispute"
REFLECT_ACTION = "session_reflect"
CONFIRM_ACTIONS = re.compile(rf"^{CONFIRM_ACTION}:\d+$")
DISPUTE_ACTIONS = re.compile(rf"^{DISPUTE_ACTION}:\d+$")
REFLECT_ACTIONS = re.compile(rf"^{REFLECT_ACTION}:\d+$")
NOTICE_BLOCK = "session_{session_id}"
HOME_SESSION_BLOCK = "home_session_{session_id}"
PAIR_BLOCK, SESSION_BLOCK = "pair", "session"
COMPETENCY_BLOCK = "competency:"  # + the competency's slug
NEW_SESSION = "new"
OPTION_TEXT_MAX = 75


@dataclass(frozen=True)
class PairChoice:
    pair_id: int
    program_id: str
    other_name: str
    caller_is_mentor: bool

    @property
    def label(self) -> str:
        role = "your mentee" if self.caller_is_mentor else "your mentor"
        return _clip(f"{self.other_name} ({role}, {self.program_id})")


@dataclass(frozen=True)
class SessionChoice:
    session_id: int
    label: str


@dataclass(frozen=True)
class ModalSpec:
    """Everything the modal shows; rebuilt whenever the pair or session choice changes."""

    pairs: tuple[PairChoice, ...]
    today: date
    pair: PairChoice | None = None
    sessions: tuple[SessionChoice, ...] = ()
    session: SessionChoice | None = None  # an existing session to reflect on; None = a new one
    fixed_session: bool = False  # opened from a DM button: no session choice
    competencies: tuple[str, ...] = field(default=())  # shown only to the pair's mentor
    # Pre-filled from elsewhere (a track's "Log a session on this"): topics chosen, and what it is about.
    topics: tuple[str, ...] = ()
    about: str = ""
    ideas: tuple[tuple[int, str], ...] = ()  # the pair's open ideas a new session may be linked to

    def metadata(self) -> str:
        pair_id = self.pair.pair_id if self.pair else None
        session_id = self.session.session_id if self.session else None
        return json.dumps({"pair": pair_id, "session": session_id, "fixed": self.fixed_session})


def _clip(text: str, limit: int = OPTION_TEXT_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str) -> TextObject:
    return kit.plain(text, emoji=True)


def option(value: str, text: str) -> dict[str, Any]:
    return {"text": plain(_clip(text)), "value": value}


def _input(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str = ""
) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": plain(label), "element": element}
    if optional:
        block["optional"] = True
    if hint:
        block["hint"] = plain(hint)
    return block


def _select(action_id: str, options: list[dict[str, Any]], initial: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "action_id": action_id, "options": options}
    chosen = next((o for o in options if o["value"] == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return element


def _text_input(action_id: str, placeholder: str) -> dict[str, Any]:
    return {
        "type": "plain_text_input",
        "action_id": action_id,
        "multiline": True,
        "max_length": MAX_TEXT,
        "placeholder": plain(placeholder),
    }


# -- the modal ------------------------------------------------------------------------------------------


def reflect_modal(spec: ModalSpec) -> dict[str, Any]:
    """The /reflect modal for `spec`."""
    blocks = [*_who_blocks(spec), *_session_blocks(spec), *_reflection_blocks(spec)]
    return kit.modal(
        "Log a session",
        blocks,
        callback_id=CALLBACK_ID,
        submit="Save",
        close="Cancel",
        private_metadata=spec.metadata(),
        emoji=True,
    )


def _who_blocks(spec: ModalSpec) -> list[Block]:
    if len(spec.pairs) > 1 and not spec.fixed_session:
        block = _input(PAIR_BLOCK, "Who was the session with?", _pair_select(spec))
        block["dispatch_action"] = True
        return [block]
    pair = spec.pair or spec.pairs[0]
    role = "your mentee" if pair.caller_is_mentor else "your mentor"
    return [context(f"Session with *{pair.other_name}* ({role}, {pair.program_id})")]


def _pair_select(spec: ModalSpec) -> dict[str, Any]:
    # A static select holds 100 options; past that, Slack asks for them as the person types.
    initial = str(spec.pair.pair_id) if spec.pair else None
    if len(spec.pairs) <= MAX_OPTIONS:
        return _select(PAIR_ACTION, [option(str(p.pair_id), p.label) for p in spec.pairs], initial)
    element: dict[str, Any] = {
        "type": "external_select",
        "action_id": PAIR_ACTION,
        "min_query_length": 0,
        "placeholder": plain("Type a name"),
    }
    if spec.pair is not None:
        element["initial_option"] = option(str(spec.pair.pair_id), spec.pair.label)
    return element


def pair_options(pairs: tuple[PairChoice, ...], query: str) -> list[dict[str, Any]]:
    """The pairs whose label holds `query` (any case), at most the 100 Slack shows, as select options."""
    wanted = query.strip().casefold()
    found = (p for p in pairs if wanted in p.label.casefold())
    return [option(str(p.pair_id), p.label) for p in islice(found, MAX_OPTIONS)]


def _session_blocks(spec: ModalSpec) -> list[Block]:
    blocks: list[Block] = []
    if spec.sessions and not spec.fixed_session:
        options = [
            option(NEW_SESSION, "A new session"),
            *(option(str(s.session_id), s.label) for s in spec.sessions),
        ]
        initial = str(spec.session.session_id) if spec.session else NEW_SESSION
        block = _input(SESSION_BLOCK, "Reflect on", _select(SESSION_ACTION, options, initial))
        block["dispatch_action"] = True
        blocks.append(block)
    if spec.session is not None:
        blocks.append(section(f"Your reflection on the session of *{spec.session.label}*."))
        return blocks
    return blocks + _new_session_inputs(spec.today) + link_input(spec.ideas)


def _new_session_inputs(today: date) -> list[Block]:
    date_picker = {"type": "datepicker", "action_id": "date", "initial_date": today.isoformat()}
    duration = {
        "type": "number_input",
        "action_id": "duration",
        "is_decimal_allowed": False,
        "min_value": str(MIN_MINUTES),
        "max_value": str(MAX_MINUTES),
        "placeholder": plain("45"),
    }
    formats = [option(value, text) for value, text in FORMATS.items()]
    return [
        _input(
            "date", "Date", date_picker, hint=f"Today or up to {MAX_AGE_DAYS} days back, in your timezone."
        ),
        _input("duration", "Duration in minutes", duration, hint="Protected time, 5 to 480 minutes."),
        _input("format", "Format", _select("format", formats)),
    ]


def _reflection_blocks(spec: ModalSpec) -> list[Block]:
    topics = {
        "type": "multi_static_select",
        "action_id": "topics",
        "options": [option(value, text) for value, text in TOPICS.items()],
        "placeholder": plain("Choose topics"),
    }
    other = _other_role(spec)
    sharing = {
        "type": "radio_buttons",
        "action_id": "share",
        "options": [option(value, text) for value, text in SHARING.items()],
        "initial_option": option("private", SHARING["private"]),
    }
    chosen = [option(value, text) for value, text in TOPICS.items() if value in spec.topics]
    if chosen:
        topics["initial_options"] = chosen
    return [
        *([context(f"About: *{spec.about}*")] if spec.about else []),
        _input("topics", "Topics", topics, optional=True),
        *_competency_blocks(spec.competencies),
        _input(
            "learned",
            f"What I learned from my {other}",
            _text_input("learned", "Reciprocal learning"),
            optional=True,
        ),
        _input(
            "share",
            "Share what I learned?",
            sharing,
            optional=True,
            hint="Coordinators read the program digest.",
        ),
        _input(
            "next_steps", "Next steps", _text_input("next_steps", "What you agreed to do next"), optional=True
        ),
        _input(
            "private_notes",
            "Private notes",
            _text_input("private_notes", "Only you will see these"),
            optional=True,
            hint="Encrypted; only you can read them, with `/reflect notes`.",
        ),
    ]


def _other_role(spec: ModalSpec) -> str:
    if spec.pair is None and len({p.caller_is_mentor for p in spec.pairs}) > 1:
        return "mentor or mentee"
    pair = spec.pair or spec.pairs[0]
    return "mentee" if pair.caller_is_mentor else "mentor"


def _competency_blocks(competencies: tuple[str, ...]) -> list[Block]:
    if not competencies:
        return []
    levels = [option(value, text.capitalize()) for value, text in LEVELS.items()]
    blocks: list[Block] = [context("*Competencies observed* (only the ones you saw today)")]
    for slug in competencies:
        element = _select(f"level_{slug}", levels)
        element["placeholder"] = plain("Not observed")
        blocks.append(_input(f"{COMPETENCY_BLOCK}{slug}", competency_label(slug), element, optional=True))
    return blocks


def saved_view(text: str) -> View:
    """What the modal turns into after a successful save."""
    return kit.message_modal("Session logged", text, close="Done", callback_id=SAVED_CALLBACK, emoji=True)


def input_block_ids(view: dict[str, Any]) -> set[str]:
    """The input blocks of a view: the only places Slack can show a field error."""
    return {b.get("block_id", "") for b in view.get("blocks", []) if b.get("type") == "input"}


# -- the confirmation DM ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """What the other side of a session is told, in the session's current state."""

    session_id: int
    logger_name: str
    minutes: int
    session_date: date
    format: str
    status: str
    topics: tuple[str, ...]
    levels: tuple[tuple[str, str], ...]  # (competency, level) observed in the session
    recipient_reflected: bool
    today: date


def notice_text(notice: Notice) -> str:
    day = short_day(notice.session_date, today=notice.today)
    return (
        f"{notice.logger_name} logged a {notice.minutes}-minute session on {day} — confirm / that's not right"
    )


def notice_blocks(notice: Notice) -> list[Block]:
    """The DM: what was logged, and confirm / that's not right / add my reflection while it applies."""
    day = short_day(notice.session_date, today=notice.today)
    what = FORMATS.get(notice.format, notice.format).lower()
    blocks = [
        section(
            f"*{notice.logger_name}* logged a {notice.minutes}-minute session with you on *{day}* ({what})."
        )
    ]
    details = _details(notice)
    if details:
        blocks.append(context(details))
    blocks.append(context(_status_line(notice)))
    buttons = _notice_buttons(notice)
    if buttons:
        blocks.append(actions(buttons, block_id=NOTICE_BLOCK.format(session_id=notice.session_id)))
    return blocks


def _details(notice: Notice) -> str:
    parts = []
    if notice.topics:
        parts.append("Topics: " + ", ".join(TOPICS.get(t, t) for t in notice.topics))
    if notice.levels:
        seen = ", ".join(f"{competency_label(c)} — {LEVELS.get(level, level)}" for c, level in notice.levels)
        parts.append("Competencies observed: " + seen)
    return "  ·  ".join(parts)


def _status_line(notice: Notice) -> str:
    if notice.status == CONFIRMED:
        return ":white_check_mark: You confirmed this session; it counts toward protected time."
    if notice.status == DISPUTED:
        return f":x: You said this isn't right, so it does not count. {notice.logger_name} has been told."
    return "Confirmed sessions count toward protected time and CME credits; unconfirmed ones do not."


def session_buttons(session_id: int, *, pending: bool, can_reflect: bool, about: str) -> list[Element]:
    """Confirm / that's not right / add my reflection; action ids carry the session id (unique per view).

    `about` names the session for screen readers ("the session Dr. Ana Mendes logged on Mon 9 Nov").
    """
    buttons: list[Element] = []
    if pending:
        buttons += [
            _button(CONFIRM_ACTION, session_id, "Confirm", "primary", says=f"Confirm {about}"),
            _button(DISPUTE_ACTION, session_id, "That's not right", "danger", says=f"Dispute {about}"),
        ]
    if can_reflect:
        says = f"Add your reflection on {about}"
        buttons.append(_button(REFLECT_ACTION, session_id, "Add my reflection", None, says=says))
    return buttons


def _button(action: str, session_id: int, text: str, style: str | None, *, says: str) -> Element:
    value = str(session_id)
    return kit.button(
        text, f"{action}:{session_id}", value, accessibility_label=says, style=style, emoji=True
    )


def home_session_actions(session_id: int, *, can_reflect: bool, about: str) -> Block:
    """Confirm / that's not right / add my reflection for an unconfirmed session on App Home."""
    buttons = session_buttons(session_id, pending=True, can_reflect=can_reflect, about=about)
    return actions(buttons, block_id=HOME_SESSION_BLOCK.format(session_id=session_id))


def _notice_buttons(notice: Notice) -> list[Element]:
    can_reflect = notice.status != DISPUTED and not notice.recipient_reflected
    about = f"the session {notice.logger_name} logged on {short_day(notice.session_date, today=notice.today)}"
    pending = notice.status == PENDING
    return session_buttons(notice.session_id, pending=pending, can_reflect=can_reflect, about=about)


def dispute_text(*, other_name: str, minutes: int, session_date: date, today: date) -> str:
    """The DM to the person who logged a session the other side says is not right."""
    day = short_day(session_date, today=today)
    return (
        f"{other_name} said your {minutes}-minute session on {day} isn't right, so it does not count. "
        "Talk it over, then log it again with `/reflect`."
    )
