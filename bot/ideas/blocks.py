"""Block Kit for ideas: the /idea and step modals, comments, the idea card, the DMs and App Home rows.

People's words are shown escaped (no mentions, links or formatting) and quoted. Buttons carry the idea
id after a colon in their action id, so that several ideas on one App Home keep unique ids.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bot.ideas.terms import (
    ACT,
    AFFECTS,
    DECISIONS,
    DO,
    IDEA,
    LEVELS,
    MAX_SUMMARY,
    MAX_TEST_DAYS,
    MAX_TEXT,
    NEXT_STEP_LABELS,
    OUTCOMES,
    PLAN,
    STAGE_LABELS,
    STUDY,
    cycle_step,
)
from bot.kernel.text import day_label, escape
from bot.slack import blocks as kit
from bot.slack.blocks import Block, Element, View, actions, context, divider, section

NEW_CALLBACK = "idea_new"
STEP_CALLBACK = "idea_step"
COMMENT_CALLBACK = "idea_comment"
EVIDENCE_CALLBACK = "idea_evidence"
# Buttons: the idea id follows a colon.
NEXT_STEP_ACTION = "idea_next_step"
COMMENT_ACTION = "idea_add_comment"
OPEN_ACTION = "idea_open"
SHARE_ACTION = "idea_share"
EVIDENCE_ACTION = "idea_mark_evidence"
NEXT_STEP_ACTIONS = re.compile(rf"^{NEXT_STEP_ACTION}:\d+$")
COMMENT_ACTIONS = re.compile(rf"^{COMMENT_ACTION}:\d+$")
OPEN_ACTIONS = re.compile(rf"^{OPEN_ACTION}:\d+$")
SHARE_ACTIONS = re.compile(rf"^{SHARE_ACTION}:\d+$")
EVIDENCE_ACTIONS = re.compile(rf"^{EVIDENCE_ACTION}:\d+$")
HOME_IDEA_BLOCK = "idea_{idea_id}"
LINK_BLOCK = "idea_link"  # the optional idea choice in the /reflect modal
NO_IDEA = "none"
PAIR_BLOCK = "idea_pair"
OPTION_TEXT_MAX = 75
QUOTE_MAX = 600  # of one text quoted in a DM or on App Home


# -- what the surfaces show ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CycleView:
    number: int
    prediction: str
    measure: str
    scope: str
    test_date: date
    happened: str | None = None
    outcome: str | None = None
    result: str | None = None
    decision: str | None = None
    decision_notes: str | None = None


@dataclass(frozen=True)
class CommentView:
    author: str
    where: str  # "the Plan of cycle 1"
    text: str
    day: date


@dataclass(frozen=True)
class IdeaView:
    """An idea as its pair sees it."""

    idea_id: int
    summary: str
    observation: str
    change: str
    affects: tuple[str, ...]
    author_id: str
    author: str
    stage: str
    shared: bool
    cycles: tuple[CycleView, ...] = ()
    comments: tuple[CommentView, ...] = ()
    minutes: int = 0  # confirmed protected time of sessions linked to it

    @property
    def cycle(self) -> CycleView | None:
        return self.cycles[-1] if self.cycles else None


@dataclass(frozen=True)
class Viewer:
    """Who looks at an idea: its author (who records the steps) or the other member of the pair."""

    is_author: bool
    next_step: str | None  # the author's next step, None when there is none (or not the author)
    may_mark_evidence: bool = False


def about(number: int, step: str, summary: str) -> str:
    """`the Plan of cycle 2 of SUMMARY`, or `the idea SUMMARY` for the idea itself."""
    where = cycle_step(number, step)
    return f"{where} {summary}" if step == IDEA else f"{where} of {summary}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(text: str, limit: int = QUOTE_MAX) -> str:
    """Someone's words as an inert mrkdwn quote."""
    return "\n".join("> " + escape(line) for line in _clip(text, limit).splitlines() or [""])


def plain(text: str) -> dict[str, Any]:
    """A plain_text object that turns `:shortcodes:` into emoji."""
    return kit.plain(text, emoji=True)


def option(value: str, text: str) -> dict[str, Any]:
    """A select, checkbox or radio option, its text cut to Slack's 75 characters."""
    return {"text": plain(_clip(text, OPTION_TEXT_MAX)), "value": value}


# -- modal inputs ---------------------------------------------------------------------------------------


def _input(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str = ""
) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": plain(label), "element": element}
    if optional:
        block["optional"] = True
    if hint:
        block["hint"] = plain(hint)
    return block


def _text(
    action_id: str, placeholder: str, *, multiline: bool = True, limit: int = MAX_TEXT
) -> dict[str, Any]:
    return {
        "type": "plain_text_input",
        "action_id": action_id,
        "multiline": multiline,
        "max_length": limit,
        "placeholder": plain(placeholder),
    }


def _choice(kind: str, action_id: str, choices: dict[str, str]) -> dict[str, Any]:
    return {"type": kind, "action_id": action_id, "options": [option(v, t) for v, t in choices.items()]}


def _select(action_id: str, choices: dict[str, str], placeholder: str) -> dict[str, Any]:
    element = _choice("static_select", action_id, choices)
    element["placeholder"] = plain(placeholder)
    return element


def _modal(title: str, blocks: list[Block], callback_id: str, metadata: dict[str, Any], submit: str) -> View:
    return kit.modal(
        title,
        blocks,
        callback_id=callback_id,
        submit=submit,
        close="Cancel",
        private_metadata=json.dumps(metadata),
        emoji=True,
    )


# -- /idea: a new idea ----------------------------------------------------------------------------------

SHARE_VALUE = "coordinators"
SHARE_TEXT = "Also share it with the program's coordinators"
SHARE_DETAIL = "In the weekly digest and the annual report"


@dataclass(frozen=True)
class NewIdeaSpec:
    """The pairs the caller may record an idea for: (pair id, label)."""

    pairs: tuple[tuple[int, str], ...]


def new_idea_modal(spec: NewIdeaSpec) -> View:
    """The /idea modal: what you noticed, who it affects, the change you would try, and who sees it."""
    blocks: list[Block] = []
    if len(spec.pairs) > 1:
        choices = {str(pair_id): label for pair_id, label in spec.pairs}
        blocks.append(
            _input(PAIR_BLOCK, "Whose pair is it for?", _select(PAIR_BLOCK, choices, "Choose a pair"))
        )
    else:
        blocks.append(context(f"With *{escape(spec.pairs[0][1])}*"))
    share = _choice("checkboxes", "share", {SHARE_VALUE: SHARE_TEXT})
    share["options"][0]["description"] = plain(SHARE_DETAIL)
    blocks += [
        _input(
            "summary",
            "The change, in one line",
            _text("summary", "Huddle at 7:15", multiline=False, limit=MAX_SUMMARY),
        ),
        _input("observation", "What I noticed", _text("observation", "What you saw in practice")),
        _input("affects", "Who it affects", _choice("checkboxes", "affects", AFFECTS)),
        _input("change", "The change I would try", _text("change", "Small enough to test in one shift")),
        _input(
            "share", "Who sees it", share, optional=True, hint="The other person in your pair always sees it."
        ),
        context("No patient names, record numbers, dates of birth or room numbers: they are refused."),
    ]
    metadata = {"pair": spec.pairs[0][0]} if len(spec.pairs) == 1 else {}
    return _modal("New idea", blocks, NEW_CALLBACK, metadata, "Save")


# -- the steps of a cycle -------------------------------------------------------------------------------

STEP_TITLES = {PLAN: "Plan a test", DO: "What happened", STUDY: "Study the result", ACT: "Act on it"}


@dataclass(frozen=True)
class StepSpec:
    """The step modal for one idea: the step to record next, with what came before it."""

    idea: IdeaView
    step: str
    cycle_number: int  # the cycle this step belongs to (a Plan starts a new one)
    today: date

    def metadata(self) -> dict[str, Any]:
        return {"idea": self.idea.idea_id, "step": self.step, "cycle": self.cycle_number}


def step_modal(spec: StepSpec) -> View:
    """The modal for the next PDSA step of an idea."""
    heading = f"*{escape(spec.idea.summary)}* — {cycle_step(spec.cycle_number, spec.step)}"
    blocks = [section(heading), *_before(spec), *_step_inputs(spec)]
    return _modal(STEP_TITLES[spec.step], blocks, STEP_CALLBACK, spec.metadata(), "Save")


def _before(spec: StepSpec) -> list[Block]:
    cycle = spec.idea.cycle
    if spec.step == PLAN or cycle is None:
        return [context(quoted(spec.idea.change, 300))]
    shown = {DO: (PLAN,), STUDY: (PLAN, DO), ACT: (PLAN, DO, STUDY)}[spec.step]
    return [context(_clip("\n".join(line for step in shown for line in step_lines(cycle, step)), 2900))]


def _step_inputs(spec: StepSpec) -> list[Block]:
    if spec.step == PLAN:
        return _plan_inputs(spec.today)
    if spec.step == DO:
        return [_input("happened", "What happened", _text("happened", "What you did and what you saw"))]
    if spec.step == STUDY:
        return [
            _input("outcome", "Against your prediction", _choice("radio_buttons", "outcome", OUTCOMES)),
            _input("result", "What the measure showed", _text("result", "The numbers or what people said")),
        ]
    return [
        _input("decision", "Decision", _choice("radio_buttons", "decision", DECISIONS)),
        _input(
            "decision_notes", "Why, and what comes next", _text("decision_notes", "Optional"), optional=True
        ),
    ]


def _plan_inputs(today: date) -> list[Block]:
    latest = today + timedelta(days=MAX_TEST_DAYS)
    picker = {"type": "datepicker", "action_id": "test_date", "initial_date": today.isoformat()}
    return [
        _input("prediction", "I predict that…", _text("prediction", "What you expect to change")),
        _input("measure", "How I will measure it", _text("measure", "A count, a time, a quick survey")),
        _input("scope", "Scope of the test", _text("scope", "One shift, one patient group, one team")),
        _input("test_date", "Test date", picker, hint=f"Today or later, up to {day_label(latest)}."),
    ]


def step_lines(cycle: CycleView, step: str) -> list[str]:
    """What was recorded for one step of a cycle, as mrkdwn lines (people's words quoted)."""
    if step == PLAN:
        return [
            f"*Plan* (test on {day_label(cycle.test_date)})",
            f"Prediction:\n{quoted(cycle.prediction)}",
            f"Measure:\n{quoted(cycle.measure)}",
            f"Scope:\n{quoted(cycle.scope)}",
        ]
    if step == DO and cycle.happened is not None:
        return ["*Do*", quoted(cycle.happened)]
    if step == STUDY and cycle.result is not None:
        return [f"*Study* — {OUTCOMES.get(cycle.outcome or '', '').lower()}", quoted(cycle.result)]
    if step == ACT and cycle.decision is not None:
        notes = [quoted(cycle.decision_notes)] if cycle.decision_notes else []
        return [f"*Act* — {DECISIONS[cycle.decision]}", *notes]
    return []


# -- comments and competency evidence ------------------------------------------------------------------


@dataclass(frozen=True)
class CommentSpec:
    idea: IdeaView
    cycle_number: int  # 0 for the idea itself
    step: str

    def metadata(self) -> dict[str, Any]:
        return {"idea": self.idea.idea_id, "cycle": self.cycle_number, "step": self.step}


def comment_modal(spec: CommentSpec) -> View:
    """A comment on one step (or on the idea), shown beside what it is about."""
    cycle = next((c for c in spec.idea.cycles if c.number == spec.cycle_number), None)
    said = step_lines(cycle, spec.step) if cycle is not None else [quoted(spec.idea.change)]
    blocks = [
        section(f"On {about(spec.cycle_number, spec.step, f'*{escape(spec.idea.summary)}*')}"),
        context(_clip("\n".join(said), 2900)),
        _input("comment", "Your comment", _text("comment", "A question, a suggestion, encouragement")),
    ]
    return _modal("Comment", blocks, COMMENT_CALLBACK, spec.metadata(), "Send")


@dataclass(frozen=True)
class EvidenceSpec:
    idea: IdeaView
    sessions: tuple[tuple[int, str], ...]  # (session id, label) of sessions linked to the idea
    competencies: tuple[str, ...]  # the program's, by slug


def evidence_modal(spec: EvidenceSpec, labels: dict[str, str]) -> View:
    """The mentor marks an idea carried through a cycle as evidence of a competency, in a linked session."""
    blocks = [
        section(f"*{escape(spec.idea.summary)}* as evidence of a competency"),
        _input(
            "session",
            "Session it rests on",
            _select("session", {str(k): v for k, v in spec.sessions}, "Choose"),
        ),
        _input(
            "competency",
            "Competency",
            _select("competency", {c: labels.get(c, c) for c in spec.competencies}, "Choose"),
        ),
        _input("level", "Level", _choice("radio_buttons", "level", LEVELS)),
        context("It counts toward the mentee's progression once that session is confirmed."),
    ]
    return _modal("Mark as evidence", blocks, EVIDENCE_CALLBACK, {"idea": spec.idea.idea_id}, "Save")


def saved_view(title: str, text: str) -> View:
    """What a modal turns into once saved."""
    return kit.message_modal(title, text, close="Done", emoji=True)


# -- the idea card (read-only) -------------------------------------------------------------------------


def card_modal(idea: IdeaView) -> View:
    """Everything recorded about an idea, cycle by cycle, with the comments."""
    blocks = [*_idea_blocks(idea), *(b for c in idea.cycles for b in _cycle_blocks(c))]
    if idea.comments:
        blocks.append(divider())
        blocks += [context(_comment_line(c)) for c in idea.comments[-20:]]
    return kit.modal("Idea", blocks[: kit.MAX_VIEW_BLOCKS], close="Close", emoji=True)


def _idea_blocks(idea: IdeaView) -> list[Block]:
    affects = ", ".join(AFFECTS.get(a, a) for a in idea.affects)
    return [
        section(f"*{escape(idea.summary)}*\n{STAGE_LABELS.get(idea.stage, idea.stage)}"),
        section(f"*What {escape(idea.author)} noticed*\n{quoted(idea.observation, 1400)}"),
        section(f"*The change* (affects: {affects.lower()})\n{quoted(idea.change, 1400)}"),
        context(_audience(idea)),
    ]


def _audience(idea: IdeaView) -> str:
    who = "the pair and the program's coordinators" if idea.shared else "the pair only"
    hours = f" · {idea.minutes / 60:g} h of protected time on it" if idea.minutes else ""
    return f"Seen by {who}{hours}"


def _cycle_blocks(cycle: CycleView) -> list[Block]:
    blocks: list[Block] = [divider(), context(f"*Cycle {cycle.number}*")]
    for step in (PLAN, DO, STUDY, ACT):
        lines = step_lines(cycle, step)
        if lines:
            blocks.append(section("\n".join(lines)))
    return blocks


def _comment_line(comment: CommentView) -> str:
    who = f"*{escape(comment.author)}* on {comment.where}, {day_label(comment.day)}"
    return f"{who}:\n{quoted(comment.text, 500)}"


# -- buttons ---------------------------------------------------------------------------------------------


def comment_value(idea_id: int, cycle_number: int, step: str) -> str:
    """What a Comment button carries: the idea, the cycle (0: the idea itself) and the step."""
    return f"{idea_id}:{cycle_number}:{step}"


def parse_comment_value(value: str) -> tuple[int, int, str]:
    """(idea id, cycle number, step) from a Comment button's value."""
    idea_id, cycle_number, step = value.split(":")
    return int(idea_id), int(cycle_number), step


def latest_step(idea: IdeaView) -> tuple[int, str]:
    """(cycle number, step) of the last thing recorded: what a comment is about by default."""
    cycle = idea.cycle
    if cycle is None:
        return 0, IDEA
    for step, value in ((ACT, cycle.decision), (STUDY, cycle.result), (DO, cycle.happened)):
        if value is not None:
            return cycle.number, step
    return cycle.number, PLAN


def _button(
    action: str, idea_id: int, label: str, value: str | None = None, style: str | None = None, *, says: str
) -> Element:
    value = value or str(idea_id)
    return kit.button(label, f"{action}:{idea_id}", value, accessibility_label=says, style=style, emoji=True)


def idea_buttons(idea: IdeaView, viewer: Viewer, *, about: tuple[int, str] | None = None) -> list[Element]:
    """Next step (the author), comment and open; on App Home (no `about`: the latest step) also share
    (the author) and evidence (the mentor), whose labels would go stale in a DM."""
    cycle_number, step = about or latest_step(idea)
    idea_id, summary = (
        idea.idea_id,
        f"the idea {idea.summary}",
    )  # what each button acts on, for screen readers
    buttons: list[Element] = []
    if viewer.next_step is not None:
        label = NEXT_STEP_LABELS[viewer.next_step]
        buttons.append(_button(NEXT_STEP_ACTION, idea_id, label, style="primary", says=f"{label}: {summary}"))
    value = comment_value(idea_id, cycle_number, step)
    buttons.append(_button(COMMENT_ACTION, idea_id, "Comment", value, says=f"Comment on {summary}"))
    buttons.append(_button(OPEN_ACTION, idea_id, "Open", says=f"Open {summary}"))
    if about is not None:
        return buttons
    if viewer.is_author:
        label = "Stop sharing with coordinators" if idea.shared else "Share with coordinators"
        buttons.append(_button(SHARE_ACTION, idea_id, label, says=f"{label}: {summary}"))
    if viewer.may_mark_evidence:
        says = f"Mark as evidence: {summary}"
        buttons.append(_button(EVIDENCE_ACTION, idea_id, "Mark as evidence", says=says))
    return buttons


# -- App Home -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeIdea:
    idea: IdeaView
    viewer: Viewer
    pair_label: str  # "with Ana Mendes"


def home_idea_blocks(item: HomeIdea) -> list[Block]:
    """One idea on App Home: its line, and its buttons for this viewer."""
    idea = item.idea
    block_id = HOME_IDEA_BLOCK.format(idea_id=idea.idea_id)
    return [
        section(f"*{escape(idea.summary)}*\n{_progress(idea)} · {item.pair_label}"),
        actions(idea_buttons(idea, item.viewer), block_id=block_id),
    ]


def _progress(idea: IdeaView) -> str:
    cycle = idea.cycle
    time_on_it = f", {idea.minutes / 60:g} h of protected time on it" if idea.minutes else ""
    if cycle is None:
        return f"raised by {escape(idea.author)}{time_on_it}"
    if cycle.happened is None:
        return f"cycle {cycle.number}, test on {day_label(cycle.test_date)}{time_on_it}"
    return f"cycle {cycle.number}{time_on_it}"


def stage_heading(stage: str, count: int) -> Block:
    """The App Home heading over the ideas at one stage."""
    return context(f"*{STAGE_LABELS.get(stage, stage)}* ({count})")


# -- the DMs --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeView:
    """One DM about an idea, in the idea's current state."""

    kind: str  # shared | step | comment | nudge
    idea: IdeaView
    viewer: Viewer
    actor: str = ""  # who did what the DM is about
    step: str = IDEA
    cycle_number: int = 0
    comment: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def notice_text(notice: NoticeView) -> str:
    """The notification line of the DM."""
    summary, where = notice.idea.summary, about(notice.cycle_number, notice.step, notice.idea.summary)
    if notice.kind == "shared":
        return f"{notice.actor} shared an idea with you: {summary}"
    if notice.kind == "step":
        return f"{notice.actor} recorded {where}"
    if notice.kind == "comment":
        return f"{notice.actor} commented on {where}"
    return f"The test date you planned for {summary} has passed"


def notice_blocks(notice: NoticeView) -> list[Block]:
    """The DM: what happened, the words it is about, and the buttons that apply now."""
    idea = notice.idea
    summary = f"*{escape(idea.summary)}*"
    where = about(notice.cycle_number, notice.step, summary)
    if notice.kind == "shared":
        body = [
            section(f"*{escape(notice.actor)}* shared an idea with you: {summary}"),
            *_idea_blocks(idea)[1:],
        ]
    elif notice.kind == "step":
        cycle = next(c for c in idea.cycles if c.number == notice.cycle_number)
        body = [
            section(f"*{escape(notice.actor)}* recorded {where}"),
            section("\n".join(step_lines(cycle, notice.step))),
        ]
    elif notice.kind == "comment":
        body = [section(f"*{escape(notice.actor)}* commented on {where}:\n{quoted(notice.comment)}")]
    else:
        body = [section(_nudge_text(notice))]
    return [*body, actions(idea_buttons(idea, notice.viewer, about=(notice.cycle_number, notice.step)))]


def _nudge_text(notice: NoticeView) -> str:
    cycle = next(c for c in notice.idea.cycles if c.number == notice.cycle_number)
    return (
        f"The test you planned for *{day_label(cycle.test_date)}* — cycle {cycle.number} of "
        f"*{escape(notice.idea.summary)}* — has passed. How did it go? Record what happened, even if "
        "the test did not take place."
    )


def link_input(choices: tuple[tuple[int, str], ...]) -> list[Block]:
    """The optional "which idea did you work on?" choice of the /reflect modal; none without ideas."""
    if not choices:
        return []
    options = {NO_IDEA: "No idea in particular", **{str(idea_id): label for idea_id, label in choices}}
    element = _choice("static_select", LINK_BLOCK, options)
    element["initial_option"] = option(NO_IDEA, options[NO_IDEA])
    return [
        _input(
            LINK_BLOCK,
            "Worked on an idea?",
            element,
            optional=True,
            hint="Time on an idea counts as protected time.",
        )
    ]
