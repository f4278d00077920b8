"""Matching as Block Kit: the profile modal, the coordinator's proposal modal and the App Home buttons.

Owns every Slack id matching renders. The proposal modal stays within Slack's limits at any cohort size:
pairs are shown a page at a time (each with its own Pin / Forbid menu), long lists are packed into
sections of at most 3,000 characters and cut with a pointer to `mentorbot match PROGRAM --dry-run`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.matching.form import MAX_CAPACITY, RANK_BLOCKS, ProfileAnswers
from bot.matching.profiles import ProfileSpec
from bot.matching.proposals import ProposalView, ShownPair
from bot.matching.terms import FORMATS, MAX_AVOID, MAX_TEXT, ROLE_LABELS, TIMES, rank_word
from bot.slack.blocks import (
    MAX_TEXT as MAX_SECTION,
)
from bot.slack.blocks import (
    Block,
    Element,
    View,
    actions,
    button,
    confirm_dialog,
    context,
    divider,
    header,
    message_modal,
    modal,
    plain,
    section,
)

PROFILE_CALLBACK = "matching_profile"
PROPOSAL_CALLBACK = "matching_proposal"
# App Home shows one button per program: ids carry ".PROGRAM" to stay unique in the view.
JOIN_ACTION = "matching_join"
LEAVE_ACTION = "matching_leave"
PROPOSE_ACTION = "matching_propose"
JOIN_ACTIONS = re.compile(rf"^{JOIN_ACTION}\.[a-z0-9-]+$")
LEAVE_ACTIONS = re.compile(rf"^{LEAVE_ACTION}\.[a-z0-9-]+$")
PROPOSE_ACTIONS = re.compile(rf"^{PROPOSE_ACTION}\.[a-z0-9-]+$")
# Each proposed pair has its own menu: ":ROW" (the stored pair's id) keeps the action ids unique.
PAIR_MENU = "matching_pair"
PAIR_MENUS = re.compile(rf"^{PAIR_MENU}:\d+$")
APPROVE_ACTION = "matching_approve"
CLEAR_ACTION = "matching_clear"
PAGE_ACTION = "matching_page"
PAGE_ACTIONS = re.compile(rf"^{PAGE_ACTION}\.(prev|next)$")
PIN_MENTOR, PIN_MENTEE, PIN_KIND = "pin_mentor", "pin_mentee", "pin_kind"

TITLE = "Proposed matches"
PAGE_SIZE = 30
MAX_LIST_SECTIONS = 3
PRIVACY = (
    "Only the coordinators of *{program}* see your profile. Nobody is matched without one, and "
    "`/mentorship leave` deletes it."
)


# -- small pieces --------------------------------------------------------------------------------------


def _option(value: str, text: str) -> dict[str, Any]:
    return {"text": plain(text[:75]), "value": value}


def _input(
    block_id: str, label: str, element: Element, *, optional: bool = True, hint: str | None = None
) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": plain(label), "element": element}
    block["optional"] = optional
    if hint:
        block["hint"] = plain(hint)
    return block


def _text_input(block_id: str, value: str, placeholder: str) -> Element:
    element: Element = {
        "type": "plain_text_input",
        "action_id": block_id,
        "max_length": MAX_TEXT if block_id != "languages" else 300,
        "placeholder": plain(placeholder),
    }
    if value:
        element["initial_value"] = value
    return element


def _choices(kind: str, block_id: str, options: list[dict[str, Any]], chosen: list[str]) -> Element:
    element: Element = {"type": kind, "action_id": block_id, "options": options}
    initial = [option for option in options if option["value"] in chosen]
    if initial and kind in ("checkboxes", "multi_static_select"):
        element["initial_options"] = initial
    elif initial:
        element["initial_option"] = initial[0]
    return element


# -- the profile modal ---------------------------------------------------------------------------------


def profile_modal(spec: ProfileSpec) -> View:
    """The opt-in profile: role, specialty, languages, training, focus, availability, capacity, ranking,
    and (asked only of its author, shown to nobody else) who never to be matched with."""
    answers = spec.answers or ProfileAnswers.model_construct(role="mentee", capacity=spec.default_capacity)
    title = f"*{'Edit your' if spec.answers else 'Join'} matching in {spec.program_name}*"
    blocks = [
        section(f"{title}\n{PRIVACY.format(program=spec.program_name)}"),
        *_about(answers),
        *_focus(spec, answers),
        *_availability(answers),
        _capacity(answers),
        *_ranking(spec, answers),
        *_avoid(spec, answers),
    ]
    return modal(
        "Matching profile",
        blocks,
        callback_id=PROFILE_CALLBACK,
        submit="Save",
        close="Cancel",
        private_metadata=spec.program_id,
    )


def _about(answers: ProfileAnswers) -> list[Block]:
    roles = [_option(key, label) for key, label in ROLE_LABELS.items()]
    languages = ", ".join(answers.languages)
    return [
        _input(
            "role", "I want to be", _choices("radio_buttons", "role", roles, [answers.role]), optional=False
        ),
        _input(
            "specialty", "Specialty", _text_input("specialty", answers.specialty, "e.g. Internal medicine")
        ),
        _input(
            "department", "Department or unit", _text_input("department", answers.department, "e.g. 4 West")
        ),
        _input(
            "languages",
            "Languages you speak",
            _text_input("languages", languages, "e.g. Portuguese, English"),
            hint="Separate them with commas.",
        ),
        _input(
            "trained_in",
            "Where you trained",
            _text_input("trained_in", answers.trained_in, "Country or region"),
        ),
    ]


def _availability(answers: ProfileAnswers) -> list[Block]:
    formats = [_option(key, label) for key, label in FORMATS.items()]
    times = [_option(key, label) for key, label in TIMES.items()]
    return [
        _input("formats", "You can meet", _choices("checkboxes", "formats", formats, list(answers.formats))),
        _input("times", "Good times for you", _choices("checkboxes", "times", times, list(answers.times))),
    ]


def _focus(spec: ProfileSpec, answers: ProfileAnswers) -> list[Block]:
    options = [_option(area, area) for area in spec.focus_areas]
    element = _choices("multi_static_select", "focus", options, list(answers.focus))
    element["placeholder"] = plain("Choose any")
    return [_input("focus", "Focus areas (to learn, or to offer as a mentor)", element)]


def _capacity(answers: ProfileAnswers) -> Block:
    options = [_option(str(n), str(n)) for n in range(1, MAX_CAPACITY + 1)]
    element = _choices("static_select", "capacity", options, [str(answers.capacity or 1)])
    return _input(
        "capacity", "Mentors: how many mentees you can take", element, hint="Mentees can leave this as it is."
    )


def _ranking(spec: ProfileSpec, answers: ProfileAnswers) -> list[Block]:
    if not spec.mentors:
        return []
    options = [_option(value, label) for value, label in spec.mentors]
    blocks: list[Block] = [
        context("*Mentees:* choose up to three mentors you would like, best first (optional).")
    ]
    for place, block_id in enumerate(RANK_BLOCKS, start=1):
        chosen = [answers.ranked[place - 1]] if len(answers.ranked) >= place else []
        element = _choices("static_select", block_id, options, chosen)
        element["placeholder"] = plain("Choose a mentor")
        blocks.append(_input(block_id, f"Your {rank_word(place)} choice", element))
    return blocks


def _avoid(spec: ProfileSpec, answers: ProfileAnswers) -> list[Block]:
    if not spec.ask_avoid:
        return []
    element: Element = {"type": "multi_users_select", "action_id": "avoid", "max_selected_items": MAX_AVOID}
    if answers.avoid:
        element["initial_users"] = list(answers.avoid)
    hint = "Only you see this list. It is never shown to anyone or given as a reason for anything."
    return [_input("avoid", "Never match me with (your supervisor, your evaluator…)", element, hint=hint)]


def profile_saved_view(program_name: str, role: str) -> View:
    text = (
        f"Saved: you are in matching for *{program_name}* as {ROLE_LABELS[role].lower()}. A coordinator "
        "reviews every proposed match before anyone is paired, and both of you will be told why you were "
        "matched. Edit it any time with `/mentorship join`; `/mentorship leave` deletes it."
    )
    return message_modal("Matching profile", text)


# -- the coordinator's proposal ------------------------------------------------------------------------


def proposal_metadata(proposal_id: int, page: int) -> str:
    return json.dumps({"proposal": proposal_id, "page": page})


def read_metadata(view: dict[str, Any]) -> tuple[int, int]:
    """(proposal id, page) of a proposal modal."""
    data = json.loads(view.get("private_metadata") or "{}")
    return int(data.get("proposal", 0)), int(data.get("page", 0))


def proposal_modal(proposal: ProposalView, *, page: int = 0, notice: str | None = None) -> View:
    """The proposal: summary, Approve, a page of pairs with Pin / Forbid, the unmatched and why, and
    pin / forbid by name; submitting re-runs the solver. `notice`: what just happened, shown first."""
    pages = max(1, -(-len(proposal.pairs) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = proposal.pairs[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    blocks = [
        header(f"{TITLE} · {proposal.program.name}"),
        *([section(f"⚠️ {notice}")] if notice else []),
        section(_summary(proposal)),
        *_decision(proposal),
        divider(),
        *[_pair_block(proposal, pair) for pair in shown],
        *_pager(page, pages),
        divider(),
        *_listed("Unmatched", [f"• <@{mentee}>: {why}" for mentee, why in proposal.unmatched], proposal),
        *_listed("Notes", [f"• {note}" for note in proposal.notes], proposal),
        *_listed("Your pins and forbids", _constraint_lines(proposal), proposal),
        *_pin_inputs(),
    ]
    return modal(
        TITLE,
        blocks,
        callback_id=PROPOSAL_CALLBACK,
        submit="Re-run",
        close="Close",
        private_metadata=proposal_metadata(proposal.id, page),
    )


def _summary(proposal: ProposalView) -> str:
    cooled = sum(1 for pair in proposal.pairs if pair.cooldown_ended_at is not None)
    lines = [
        f"*Proposal #{proposal.id}* ({proposal.status}): {len(proposal.pairs)} of {proposal.mentees} waiting "
        f"mentees matched, with {proposal.mentors} mentors who have a free place. Total score "
        f"{proposal.total_score}; each pair's score is the sum of its factors.",
    ]
    if cooled:
        lines.append(f"⚠️ {cooled} pair(s) inside the repeat cooldown: only to leave nobody unmatched.")
    return "\n".join(lines)


def _decision(proposal: ProposalView) -> list[Block]:
    if proposal.status != "open":
        return [context(f"This proposal is {proposal.status}: nothing here can be approved.")]
    elements = []
    if proposal.pairs:
        n = len(proposal.pairs)
        sure = confirm_dialog(
            "Approve these pairs?",
            f"Create {n} pair(s) and send both sides a welcome message saying why they were matched.",
            confirm="Approve",
            deny="Not yet",
        )
        says = f"Approve the {n} proposed pairs and welcome them"
        elements.append(
            button(
                f"Approve {n} pairs",
                APPROVE_ACTION,
                str(proposal.id),
                accessibility_label=says,
                style="primary",
                confirm=sure,
            )
        )
    if proposal.pins or proposal.forbids:
        says = "Clear every pin and forbid, then re-run the proposal"
        elements.append(
            button("Clear pins and forbids", CLEAR_ACTION, str(proposal.id), accessibility_label=says)
        )
    hint = context("Pin keeps a pair in every re-run; Forbid takes it out. Either re-runs at once.")
    return [actions(elements), hint] if elements else [hint]


def _pair_block(proposal: ProposalView, pair: ShownPair) -> Block:
    block = section(proposal.pair_line(pair))
    if proposal.status == "open" and pair.row_id:
        first = ("unpin", "Unpin this pair") if pair.pinned else ("pin", "📌 Pin this pair")
        options = [
            _option(f"{kind}:{pair.row_id}", text)
            for kind, text in (first, ("forbid", "🚫 Forbid this pair"))
        ]
        block["accessory"] = {
            "type": "overflow",
            "action_id": f"{PAIR_MENU}:{pair.row_id}",
            "options": options,
        }
    return block


def _pager(page: int, pages: int) -> list[Block]:
    if pages == 1:
        return []
    elements = []
    if page > 0:
        says = f"Show the previous page of pairs, page {page} of {pages}"
        elements.append(button("◀ Previous", f"{PAGE_ACTION}.prev", str(page - 1), accessibility_label=says))
    if page < pages - 1:
        says = f"Show the next page of pairs, page {page + 2} of {pages}"
        elements.append(button("Next ▶", f"{PAGE_ACTION}.next", str(page + 1), accessibility_label=says))
    return [actions(elements), context(f"Page {page + 1} of {pages}")]


def _constraint_lines(proposal: ProposalView) -> list[str]:
    lines = [f"• 📌 <@{mentee}> ← <@{mentor}>" for mentor, mentee in proposal.pins]
    return lines + [f"• 🚫 <@{mentee}> ← <@{mentor}>" for mentor, mentee in proposal.forbids]


def _listed(title: str, lines: list[str], proposal: ProposalView) -> list[Block]:
    """`lines` under a bold title, packed into at most MAX_LIST_SECTIONS sections; the rest counted."""
    if not lines:
        return []
    sections: list[str] = [f"*{title} ({len(lines)})*"]
    for index, line in enumerate(lines):
        if len(sections[-1]) + len(line) + 1 <= MAX_SECTION - 200:
            sections[-1] += "\n" + line
        elif len(sections) < MAX_LIST_SECTIONS:
            sections.append(line)
        else:
            command = f"mentorbot match {proposal.program.id} --dry-run"
            sections[-1] += f"\n…and {len(lines) - index} more: `{command}` lists them all."
            break
    return [section(text) for text in sections]


def _pin_inputs() -> list[Block]:
    kinds = [
        _option("pin", "Pin: always propose them together"),
        _option("forbid", "Forbid: never propose them"),
    ]
    return [
        context("Or name a pair yourself, then press *Re-run*:"),
        _input(PIN_MENTOR, "Mentor", {"type": "users_select", "action_id": PIN_MENTOR}),
        _input(PIN_MENTEE, "Mentee", {"type": "users_select", "action_id": PIN_MENTEE}),
        _input(PIN_KIND, "Do", _choices("radio_buttons", PIN_KIND, kinds, ["pin"])),
    ]


def working_view(text: str) -> View:
    """What the proposal modal shows while the solver runs or the approval goes through."""
    return message_modal(TITLE, text)


# -- App Home ------------------------------------------------------------------------------------------


def join_button(program_id: str, *, joined: bool, program_name: str) -> Element:
    face = "Edit my profile" if joined else "Join matching"
    says = f"{'Edit your matching profile in' if joined else 'Join mentor matching in'} {program_name}"
    return button(face, f"{JOIN_ACTION}.{program_id}", program_id, accessibility_label=says)


def leave_button(program_id: str, program_name: str) -> Element:
    sure = confirm_dialog(
        "Leave matching?",
        f"Your matching profile in {program_name} is deleted and you won't be in any later proposal.",
        confirm="Leave",
        deny="Stay",
    )
    says = f"Leave matching in {program_name} and delete your profile"
    return button(
        "Leave matching",
        f"{LEAVE_ACTION}.{program_id}",
        program_id,
        accessibility_label=says,
        style="danger",
        confirm=sure,
    )


def propose_button(program_id: str, program_name: str) -> Element:
    says = f"Propose mentor-mentee matches for {program_name}"
    return button(
        "Propose matches",
        f"{PROPOSE_ACTION}.{program_id}",
        program_id,
        accessibility_label=says,
        style="primary",
    )
