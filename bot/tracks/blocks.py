"""Block Kit for tracks: journey prompts, gap flags, attestation requests and forms, the App Home timeline.

Owns the tracks' Slack ids. Buttons carry the milestone id after a colon, so several on one view
(App Home) stay unique.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

from bot.kernel.text import day_label, day_text, escape
from bot.slack import blocks as kit
from bot.slack.blocks import Block, Element, View, actions, context, divider, section

LOG_ACTION = "track_log"
ATTEST_ACTION = "track_attest"
RETURN_ACTION = "track_return"
LOG_ACTIONS = re.compile(rf"^{LOG_ACTION}:\d+$")
ATTEST_ACTIONS = re.compile(rf"^{ATTEST_ACTION}:\d+$")
RETURN_ACTIONS = re.compile(rf"^{RETURN_ACTION}:\d+$")
ATTEST_CALLBACK = "track_attest_form"
RETURN_CALLBACK = "track_return_form"
SIGNED_CALLBACK = "track_signed"
LEVEL_BLOCK = "level:"  # + the track competency's id
COMMENTS_BLOCK = "comments"
REASON_BLOCK = "reason"
REQUEST_BLOCK = "track_request_{milestone_id}"
MAX_COMMENT = 2000

# ACGME milestone levels, as the attestation form offers them.
MILESTONE_LEVELS: dict[int, str] = {
    1: "Level 1: novice",
    2: "Level 2: advanced beginner",
    3: "Level 3: competent",
    4: "Level 4: proficient, ready for unsupervised practice",
    5: "Level 5: expert (aspirational)",
}


def _button(label: str, action: str, milestone_id: int, style: str | None = None, *, says: str) -> Element:
    value = str(milestone_id)
    return kit.button(
        label, f"{action}:{milestone_id}", value, accessibility_label=says, style=style, emoji=True
    )


def log_button(milestone_id: int, topic: str) -> Element:
    """ "Log a session on this": opens /reflect for the pair with the topic chosen."""
    return _button(
        "Log a session on this", LOG_ACTION, milestone_id, "primary", says=f"Log a session on {topic}"
    )


# -- journey prompts and checkpoints ---------------------------------------------------------------------


@dataclass(frozen=True)
class Prompt:
    """A journey topic (or a checkpoint) as one reader of the pair gets it."""

    milestone_id: int
    track_name: str
    phase_name: str
    title: str
    body: str
    day: date
    licensee_id: str
    mentor_id: str | None
    checkpoint: bool = False


def journey_prompt(prompt: Prompt) -> tuple[str, list[Block]]:
    """The DM: the topic, what it is about, who it is for, and "Log a session on this"."""
    kind = "Checkpoint" if prompt.checkpoint else "Journey topic"
    text = f"{kind} on {prompt.track_name}: {prompt.title}"
    pair = f"<@{prompt.licensee_id}>" + (f" and <@{prompt.mentor_id}>" if prompt.mentor_id else "")
    where = prompt.track_name + (f" · {prompt.phase_name}" if prompt.phase_name else "")
    blocks = [
        section(f"*{kind}: {escape(prompt.title)}*\n{escape(prompt.body)}"),
        context(f"{escape(where)} · {day_text(prompt.day)} · for {pair}"),
    ]
    if not prompt.checkpoint:
        blocks.append(actions([log_button(prompt.milestone_id, prompt.title)]))
    return text, blocks


# -- gap flags -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    """Competencies with no evidence yet in a review period, a month before it closes."""

    licensee_id: str
    track_name: str
    review_title: str
    closes: date
    missing: tuple[tuple[str, tuple[str, ...]], ...]  # (competency name, programs.yml competencies)
    unmapped: tuple[str, ...]  # competencies the program records none of


def gap_message(gap: Gap) -> tuple[str, list[Block]]:
    names = ", ".join(name for name, _ in gap.missing)
    text = f"No evidence yet of {names} for <@{gap.licensee_id}> ({gap.track_name})"
    lines = [
        f"• *{escape(name)}*: record {', '.join(f'`{s}`' for s in sources)} in a confirmed /reflect session"
        for name, sources in gap.missing
    ]
    blocks = [
        section(
            f":warning: *No evidence yet* for <@{gap.licensee_id}> on *{escape(gap.track_name)}*, "
            f"{escape(gap.review_title)}. The review closes on *{day_text(gap.closes)}*.\n" + "\n".join(lines)
        )
    ]
    if gap.unmapped:
        blocks.append(
            context(
                "programs.yml records none of the competencies that evidence "
                + ", ".join(gap.unmapped)
                + ": add one to the program's `competencies`, or the gap stays open."
            )
        )
    return text, blocks


# -- attestation -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompetencyEvidence:
    """One competency's line in an attestation request: what was seen, or that nothing was."""

    competency_id: str
    name: str
    seen: tuple[str, ...]  # "developing, Tue 3 Mar" ...

    @property
    def gap(self) -> bool:
        return not self.seen


@dataclass(frozen=True)
class Signed:
    """The current word on a review: attested or returned, by whom and when."""

    status: str  # attested | returned
    by: str
    on: date
    summary: str  # the levels, or the reason given
    amended: bool


@dataclass(frozen=True)
class Request:
    """What the supervising physician is asked to attest."""

    milestone_id: int
    licensee_id: str
    licensee_name: str
    track_name: str
    review_title: str
    closes: date
    competencies: tuple[CompetencyEvidence, ...]
    sessions: int
    hours: str
    signed: Signed | None = None


def attestation_request(request: Request) -> tuple[str, list[Block]]:
    """The supervisor's DM: the period's evidence by competency, then Attest / Return (or Amend)."""
    text = f"Attestation due: {request.licensee_name}, {request.review_title}"
    lines = [_evidence_line(c) for c in request.competencies]
    blocks: list[Block] = [
        section(
            f"*Attestation for <@{request.licensee_id}>* on *{escape(request.track_name)}*\n"
            f"{escape(request.review_title)} (closed {day_text(request.closes)})"
        ),
        section("\n".join(lines)),
        context(f"{request.sessions} confirmed sessions · {request.hours} protected time in the period"),
    ]
    blocks += _signed_blocks(request)
    return text, blocks


def _evidence_line(competency: CompetencyEvidence) -> str:
    if competency.gap:
        return f":warning: *{escape(competency.name)}*: no evidence in this period"
    return f"• *{escape(competency.name)}*: {'; '.join(competency.seen)}"


def _signed_blocks(request: Request) -> list[Block]:
    block_id = REQUEST_BLOCK.format(milestone_id=request.milestone_id)
    signed = request.signed
    if signed is None:
        return [
            actions(
                [
                    _button(
                        "Attest",
                        ATTEST_ACTION,
                        request.milestone_id,
                        "primary",
                        says=_says("Attest", request),
                    ),
                    _button("Return", RETURN_ACTION, request.milestone_id, says=_says("Return", request)),
                ],
                block_id=block_id,
            )
        ]
    word = "Attested" if signed.status == "attested" else "Returned"
    amended = " (amended)" if signed.amended else ""
    label = "Amend" if signed.status == "attested" else "Attest"
    return [
        section(
            f":lock: *{word}{amended}* by {escape(signed.by)} on {day_text(signed.on)}\n{signed.summary}"
        ),
        actions(
            [_button(label, ATTEST_ACTION, request.milestone_id, says=_says(label, request))],
            block_id=block_id,
        ),
    ]


def _says(verb: str, request: Request) -> str:
    """A screen reader's name for Attest / Return / Amend: the verb, whose review, which one."""
    return f"{verb} {request.licensee_name}'s {request.review_title}"


@dataclass(frozen=True)
class AttestForm:
    """The attestation modal: one level per competency, comments; `amends` the row it corrects."""

    milestone_id: int
    licensee_name: str
    review_title: str
    competencies: tuple[tuple[str, str], ...]  # (id, name)
    initial: dict[str, int]
    amends: int | None

    def metadata(self) -> str:
        return json.dumps({"milestone": self.milestone_id, "amends": self.amends})


def _level_options() -> list[dict[str, object]]:
    return [
        {"text": kit.plain(label, emoji=True), "value": str(level)}
        for level, label in MILESTONE_LEVELS.items()
    ]


def attest_modal(form: AttestForm) -> View:
    """Milestone level per competency (required) and comments; signed by the person who submits it."""
    options = _level_options()
    blocks: list[Block] = [
        section(f"*{escape(form.licensee_name)}* · {escape(form.review_title)}"),
        context(
            "Your attestation is signed with your name and cannot be edited; a correction is a new, "
            "dated amendment shown beside it in the evidence export."
        ),
    ]
    for competency_id, name in form.competencies:
        element: dict[str, object] = {
            "type": "static_select",
            "action_id": f"level_{competency_id}",
            "options": options,
        }
        if competency_id in form.initial:
            element["initial_option"] = options[form.initial[competency_id] - 1]
        blocks.append(_input(f"{LEVEL_BLOCK}{competency_id}", name, element))
    blocks.append(_input(COMMENTS_BLOCK, "Comments", _text_input("comments"), optional=True))
    title = "Amend attestation" if form.amends else "Attest"
    return kit.modal(
        title,
        blocks,
        callback_id=ATTEST_CALLBACK,
        submit="Sign",
        close="Cancel",
        private_metadata=form.metadata(),
        emoji=True,
    )


def return_modal(milestone_id: int, *, licensee_name: str, review_title: str, amends: int | None) -> View:
    """Returning the evidence instead of attesting: a reason is required."""
    blocks = [
        section(f"*{escape(licensee_name)}* · {escape(review_title)}"),
        _input(REASON_BLOCK, "Why are you returning it?", _text_input("reason")),
    ]
    metadata = json.dumps({"milestone": milestone_id, "amends": amends})
    return kit.modal(
        "Return evidence",
        blocks,
        callback_id=RETURN_CALLBACK,
        submit="Return",
        close="Cancel",
        private_metadata=metadata,
        emoji=True,
    )


def signed_view(text: str) -> View:
    return kit.message_modal("Attestation", text, close="Done", callback_id=SIGNED_CALLBACK, emoji=True)


def _input(block_id: str, label: str, element: dict[str, object], *, optional: bool = False) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": kit.plain(label[:2000], emoji=True),
        "element": element,
    }
    if optional:
        block["optional"] = True
    return block


def _text_input(action_id: str) -> dict[str, object]:
    return {"type": "plain_text_input", "action_id": action_id, "multiline": True, "max_length": MAX_COMMENT}


# -- App Home --------------------------------------------------------------------------------------------

DONE, DUE, OVERDUE, UPCOMING = "done", "due", "overdue", "upcoming"
_MARKS = {
    DONE: ":white_check_mark:",
    DUE: ":large_blue_circle:",
    OVERDUE: ":red_circle:",
    UPCOMING: ":white_circle:",
}


@dataclass(frozen=True)
class Step:
    milestone_id: int
    day: date
    title: str
    state: str
    can_log: bool = False


@dataclass(frozen=True)
class Timeline:
    """One enrolment as the licensee, their mentor or their supervisor sees it on App Home."""

    track_name: str
    licensee_id: str
    role: str  # "you" | "your mentee" | "you supervise"
    done: int
    total: int
    steps: tuple[Step, ...]  # the overdue, the due and the next few


def timeline_blocks(timelines: list[Timeline]) -> list[Block]:
    """The Home section: per enrolment its progress, then overdue, due and upcoming steps."""
    if not timelines:
        return []
    blocks: list[Block] = [section("*Supervised practice and journeys*")]
    for index, timeline in enumerate(timelines):
        if index:
            blocks.append(divider())
        who = "You" if timeline.role == "you" else f"<@{timeline.licensee_id}> ({timeline.role})"
        lines = [
            f"{_MARKS[s.state]} {day_label(s.day)} · {escape(s.title)} — {s.state}" for s in timeline.steps
        ]
        blocks.append(
            section(
                f"*{escape(timeline.track_name)}* · {who} · {timeline.done} of {timeline.total} done\n"
                + "\n".join(lines)
            )
        )
        buttons = [log_button(s.milestone_id, s.title) for s in timeline.steps if s.can_log][:1]
        if buttons:
            blocks.append(actions(buttons))
    return blocks
