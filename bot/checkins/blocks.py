"""Block Kit for check-ins: the prompt DM, the answer modal, the thank-you, reminders and mentor DMs.

Every question says, next to it, who will see the answer. In the modal each input's action_id equals
its block_id, so state values read as values[name][name].
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.checkins import edmondson
from bot.kernel.text import escape
from bot.slack import blocks as kit
from bot.slack.blocks import Block, TextObject, View, actions, context, section

Blocks = list[Block]

ANSWER_CALLBACK = "checkin_answer"
OPEN_ACTION = "checkin_answer_open"
WELLBEING_ACTION = "checkin_wellbeing_{score}"
WELLBEING_ACTIONS = re.compile("^" + WELLBEING_ACTION.format(score="[1-5]") + "$")
PAUSE_HOME_ACTION = "checkin_pause_home"
RESUME_HOME_ACTION = "checkin_resume_home"
WELLBEING_BLOCK = "checkin_wellbeing"
OPEN_BLOCK = "checkin_open"
PAUSE_BLOCK = "checkin_home"
# The modal's inputs: each element's action_id equals its block_id, so values read values[id][id].
WELLBEING_INPUT, PSYCH_INPUT, MET_INPUT, NOTE_INPUT = "wellbeing", "psych", "met", "note"
NOTE_MAX = 2000

WELLBEING: dict[int, str] = {1: "Struggling", 2: "Low", 3: "Okay", 4: "Good", 5: "Thriving"}


@dataclass(frozen=True)
class Audience:
    """Who sees each answer, worded for the program's minimum group size."""

    min_group: int

    @property
    def wellbeing(self) -> str:
        return f"your mentor, and coordinators only in totals of {self.min_group} or more people"

    @property
    def psych(self) -> str:
        return f"nobody individually, only program totals of {self.min_group} or more people"

    mentor_only = "your mentor"


def _plain(text: str) -> TextObject:
    return kit.plain(text, emoji=True)


def _button(label: str, action_id: str, value: str, *, says: str, primary: bool = False) -> dict[str, Any]:
    style = "primary" if primary else None
    return kit.button(label, action_id, value, accessibility_label=says, style=style, emoji=True)


def wellbeing_label(score: int) -> str:
    return f"{score} · {WELLBEING[score]}"


def _open_button(checkin_id: int, label: str, *, says: str) -> dict[str, Any]:
    return _button(label, OPEN_ACTION, str(checkin_id), says=says, primary=True)


def prompt(*, checkin_id: int, name: str, open_until: str, audience: Audience) -> tuple[str, Blocks]:
    """The check-in DM: quick wellbeing buttons and the full check-in behind "Answer"."""
    buttons = [
        _button(
            wellbeing_label(score),
            WELLBEING_ACTION.format(score=score),
            f"{checkin_id}:{score}",
            says=f"Rate your wellbeing this week {score} of 5: {WELLBEING[score]}",
        )
        for score in WELLBEING
    ]
    blocks: Blocks = [
        section(f"Hi {escape(name)}, it's check-in time. *How are you doing this week?*"),
        actions(buttons, block_id=WELLBEING_BLOCK),
        context(f"Wellbeing — who sees it: {audience.wellbeing}."),
        actions(
            [_open_button(checkin_id, "Answer", says="Open this week's check-in in full")],
            block_id=OPEN_BLOCK,
        ),
        context(
            f"*Answer* opens the full check-in: wellbeing; one team-climate question ({audience.psych}); "
            f"whether you have met your mentor and an optional note ({audience.mentor_only} sees both). "
            f"Open until {open_until} your time."
        ),
    ]
    return "Check-in time: how are you doing this week?", blocks


@dataclass(frozen=True)
class Recorded:
    wellbeing: int | None
    psych_answered: bool
    met_mentor: bool | None
    note: bool


def thanks(
    *, checkin_id: int, name: str, period: str, recorded: Recorded, open_until: str, audience: Audience
) -> tuple[str, Blocks]:
    """The DM after an answer: what was recorded and who sees each part."""
    lines = []
    if recorded.wellbeing is not None:
        lines.append(f"• Wellbeing: *{wellbeing_label(recorded.wellbeing)}* — seen by {audience.wellbeing}")
    if recorded.psych_answered:
        lines.append(f"• Team-climate question: answered — seen by {audience.psych}")
    if recorded.met_mentor is not None:
        met = "yes" if recorded.met_mentor else "no"
        lines.append(f"• Met your mentor since the last check-in: *{met}* — seen by your mentor")
    if recorded.note:
        lines.append("• Note: sent to your mentor — only your mentor sees it")
    blocks: Blocks = [
        section(f":white_check_mark: Thank you, {escape(name)}. Your check-in for {period} is recorded:"),
        section("\n".join(lines)),
        actions(
            [_open_button(checkin_id, "Change or add answers", says=f"Change your check-in for {period}")]
        ),
        context(f"You can change your answers until {open_until} your time."),
    ]
    return f"Thank you — your check-in for {period} is recorded.", blocks


def closed(*, period: str, closed_at: str) -> tuple[str, Blocks]:
    text = (
        f"This check-in for {period} closed on {closed_at} your time without an answer. "
        "The next one will come as usual."
    )
    return text, [section(text)]


def reminder(*, checkin_id: int, period: str, open_until: str) -> tuple[str, Blocks]:
    text = f"A reminder: your check-in for {period} is still open until {open_until} your time."
    button = _open_button(checkin_id, "Answer", says=f"Answer your check-in for {period}")
    blocks: Blocks = [section(text), actions([button])]
    return text, blocks


def note_to_mentor(
    *, mentee: str, period: str, note: str, wellbeing: int | None, met: bool | None
) -> tuple[str, Blocks]:
    quoted = "\n".join(f"> {line}" for line in escape(note[:NOTE_MAX]).splitlines() or [""])
    facts = []
    if wellbeing is not None:
        facts.append(f"wellbeing {wellbeing_label(wellbeing)}")
    if met is not None:
        facts.append("met you since the last check-in: " + ("yes" if met else "no"))
    blocks: Blocks = [section(f"*{escape(mentee)}* left you a note in their check-in for {period}:")]
    blocks.append(section(quoted))
    if facts:
        blocks.append(context("Their check-in: " + "; ".join(facts) + ". Only you see this."))
    return f"{mentee} left you a note in their check-in for {period}.", blocks


def nudge(*, mentee: str) -> tuple[str, Blocks]:
    text = (
        f"Consider checking in with *{escape(mentee)}* — a short, informal hello this week could help. "
        "(Sent when a mentee's recent check-ins suggest a tough stretch; their answers stay private.)"
    )
    return f"Consider checking in with {mentee}.", [section(text)]


# -- the modal ---------------------------------------------------------------------------------------


def _radio(action_id: str, options: dict[int, str], initial: int | None) -> dict[str, Any]:
    choices = [{"text": _plain(label), "value": str(value)} for value, label in options.items()]
    element: dict[str, Any] = {"type": "radio_buttons", "action_id": action_id, "options": choices}
    if initial in options:
        element["initial_option"] = choices[list(options).index(initial)]
    return element


def _input(block_id: str, label: str, element: dict[str, Any], hint: str, optional: bool) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": element,
        "hint": _plain(hint),
        "optional": optional,
    }


@dataclass(frozen=True)
class Prefill:
    wellbeing: int | None = None
    psych: int | None = None
    met: bool | None = None
    note: str | None = None


def answer_modal(
    *, checkin_id: int, period: str, item: int, audience: Audience, prefill: Prefill
) -> dict[str, Any]:
    """The full check-in; each field's hint says who will see the answer."""
    agreement = {value: f"{value} · {label}" for value, label in edmondson.AGREEMENT.items()}
    met_initial = None if prefill.met is None else (1 if prefill.met else 0)
    note: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": NOTE_INPUT,
        "multiline": True,
        "max_length": NOTE_MAX,
    }
    if prefill.note:
        note["initial_value"] = prefill.note
    blocks: Blocks = [
        context(f"Check-in for {period}. Each answer says who will see it."),
        _input(
            WELLBEING_INPUT,
            "How are you doing this week?",
            _radio(WELLBEING_INPUT, {s: wellbeing_label(s) for s in WELLBEING}, prefill.wellbeing),
            f"Who sees this: {audience.wellbeing}.",
            optional=False,
        ),
        _input(
            PSYCH_INPUT,
            f"How much do you agree? “{edmondson.ITEMS[item]}”",
            _radio(PSYCH_INPUT, agreement, prefill.psych),
            f"Who sees this: {audience.psych}.",
            optional=True,
        ),
        _input(
            MET_INPUT,
            "Have you met your mentor since the last check-in?",
            _radio(MET_INPUT, {1: "Yes", 0: "No"}, met_initial),
            "Who sees this: your mentor.",
            optional=True,
        ),
        _input(NOTE_INPUT, "A note for your mentor (optional)", note, "Who sees this: your mentor.", True),
    ]
    return kit.modal(
        "Check-in",
        blocks,
        callback_id=ANSWER_CALLBACK,
        private_metadata=json.dumps({"checkin_id": checkin_id}),
        submit="Save",
        close="Cancel",
        emoji=True,
    )


def message_view(title: str, text: str) -> View:
    """A modal with one message (e.g. the check-in closed while the modal was open)."""
    return kit.message_modal(title[:24], text, emoji=True)


# -- App Home ----------------------------------------------------------------------------------------


def pause_actions(*, paused: bool) -> Block:
    """The one Pause / Resume check-ins button, wherever App Home shows a mentee's check-ins."""
    if paused:
        says = "Resume your check-ins now"
        button = kit.button(
            "Resume check-ins", RESUME_HOME_ACTION, "resume", accessibility_label=says, style="primary"
        )
    else:
        says = "Pause your check-ins for 2 weeks"
        button = kit.button("Pause for 2 weeks", PAUSE_HOME_ACTION, "2w", accessibility_label=says)
    return actions([button], block_id=PAUSE_BLOCK)
