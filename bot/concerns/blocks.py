"""Block Kit for concerns: the sender's modals, the coordinators' list and the urgent posts.

Text a person typed is always rendered as plain_text, so a concern cannot ping a channel or
smuggle formatting into a coordinator's view.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.concerns.terms import CATEGORIES, MAX_TEXT, STATUSES, Route, case_ref, excerpt, week_label
from bot.kernel.programs import Program
from bot.slack import blocks as kit
from bot.slack.blocks import Block, TextObject, View, context, section
from storage.models import Concern, ConcernMessage
from storage.repositories.concerns import ThreadSummary

SUBMIT = "concern_submit"
STATUS_VIEW = "concern_status"
SENDER_REPLY = "concern_sender_reply"
COORDINATOR_REPLY = "concern_coordinator_reply"
ACTION_REPLY = "concern_reply"
ACTION_ACKNOWLEDGE = "concern_acknowledge"
ACTION_RESOLVE = "concern_resolve"
ACTION_SENDER_REPLY = "concern_sender_reply"
ACTION_SENDER_CLOSE = "concern_sender_close"
SENDER_ACTIONS_BLOCK = "sender_actions"
RESPONDER_ACTIONS_BLOCK = "concern:{concern_id}"
TEXT_BLOCK, TEXT_ACTION = "text", "text"
# The form's other inputs: each element's action_id equals its block_id, so values read values[id][id].
PROGRAM_BLOCK, CATEGORY_BLOCK, URGENCY_BLOCK = "program", "category", "urgency"
REPLIES_BLOCK, INVOLVES_BLOCK = "replies", "involves"
URGENCY_OPTIONS = [("routine", "Routine"), ("urgent", "Urgent: coordinators are told at once")]
MAX_THREAD_SHOWN = 30
MAX_LISTED = 15

WHAT_IS_STORED = (
    "*What is stored:* the program, the category, whether it is urgent, your text (encrypted), "
    "the week it arrived and a scrambled form of your case key.\n"
    "*Never stored or logged:* your name, your Slack ID, the channel you typed in, or the exact time. "
    "Nothing is posted in your DMs or channels."
)


# --- small builders -------------------------------------------------------------------------------------


def plain(text: str) -> TextObject:
    """Concerns never turn typed `:shortcodes:` into emoji."""
    return kit.plain(text, emoji=False)


def typed_section(text: str) -> Block:
    """Someone's own words, shown verbatim and inert."""
    return kit.plain_section(text[:MAX_TEXT], emoji=False)


def modal(title: str, blocks: list[Block], **fields: str) -> View:
    return kit.modal(title, blocks, emoji=False, **fields)


def radio(action_id: str, options: Sequence[tuple[str, str]], initial: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "radio_buttons",
        "action_id": action_id,
        "options": [{"text": plain(label), "value": value} for value, label in options],
    }
    if initial is not None:
        element["initial_option"] = next(o for o in element["options"] if o["value"] == initial)
    return element


def checkbox(action_id: str, value: str, label: str, *, checked: bool) -> dict[str, Any]:
    option = {"text": plain(label), "value": value}
    element: dict[str, Any] = {"type": "checkboxes", "action_id": action_id, "options": [option]}
    if checked:
        element["initial_options"] = [option]
    return element


def text_input(label: str, *, hint: str, initial: str = "", placeholder: str = "") -> Block:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": TEXT_ACTION,
        "multiline": True,
        "max_length": MAX_TEXT,
    }
    if initial:
        element["initial_value"] = initial[:MAX_TEXT]
    if placeholder:
        element["placeholder"] = plain(placeholder)
    return {
        "type": "input",
        "block_id": TEXT_BLOCK,
        "label": plain(label),
        "hint": plain(hint),
        "element": element,
    }


# --- the sender's side ----------------------------------------------------------------------------------


def concern_modal(
    programs: Sequence[Program], notes: Sequence[str], *, initial_text: str = "", metadata: str = ""
) -> dict[str, Any]:
    """The `/concern` form; `notes` are the timing and routing warnings for the sender's programs."""
    blocks: list[Block] = [
        section("Raise a concern *anonymously*. Coordinators see what you write, never who wrote it."),
        section(WHAT_IS_STORED),
    ]
    if notes:
        blocks.append(context(*notes))
    if len(programs) > 1:
        options = [{"text": plain(p.name[:75]), "value": p.id} for p in programs]
        select = {"type": "static_select", "action_id": PROGRAM_BLOCK, "options": options}
        blocks.append(_input(PROGRAM_BLOCK, "Program", select))
    return modal(
        "Raise a concern",
        blocks + _form_inputs(initial_text),
        callback_id=SUBMIT,
        submit="Send anonymously",
        close="Cancel",
        private_metadata=metadata,
    )


def _form_inputs(initial_text: str) -> list[Block]:
    no_phi = "No patient identifiers (names, record numbers, dates of birth, room or bed numbers)."
    replies = "Coordinators may reply to me (I read replies with my case key)"
    return [
        _input(CATEGORY_BLOCK, "What is it about?", radio(CATEGORY_BLOCK, list(CATEGORIES.items()))),
        _input(URGENCY_BLOCK, "How urgent is it?", radio(URGENCY_BLOCK, URGENCY_OPTIONS, "routine")),
        text_input("What happened?", hint=no_phi, initial=initial_text),
        _input(
            REPLIES_BLOCK, "Follow-up", checkbox(REPLIES_BLOCK, "yes", replies, checked=True), optional=True
        ),
        _input(
            INVOLVES_BLOCK,
            "Who is involved?",
            checkbox(INVOLVES_BLOCK, "yes", "This involves my mentor or a coordinator", checked=False),
            optional=True,
        ),
    ]


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": plain(label), "element": element}
    if optional:
        block["optional"] = True
    return block


NEXT_STEPS: dict[Route, str] = {
    Route.DIGEST: "Your program's coordinators will see it in their list of open concerns and weekly digest.",
    Route.COORDINATORS_NOW: "It is urgent, so it was posted to your program's coordinators right away "
    "(without your name).",
    Route.ESCALATION_NOW: "Because it involves your mentor or a coordinator, it went to {escalation} only — "
    "not to the coordinators, and not into their digest.",
    Route.ESCALATION_WAITING: "It involves your mentor or a coordinator, and your program has no escalation "
    "contact yet, so it was stored and *not* shown to the coordinators. It will go to the escalation "
    "contact once one is named. If it cannot wait, contact your GME office or ombudsperson directly.",
}


def confirmation_view(case_key: str, route: Route, *, escalation: str) -> dict[str, Any]:
    """Shown once, right after submitting: the only place the case key ever appears."""
    blocks = [
        section(":white_check_mark: *Your concern was sent anonymously.*"),
        section(f"*Your case key:* `{case_key}`"),
        section(
            "This is the *only* time it is shown. Keep it somewhere private, outside Slack. "
            f"Type `/concern status {case_key}` to read replies and answer, still anonymously. "
            "We cannot notify you of replies, because we do not know who you are."
        ),
        section(NEXT_STEPS[route].format(escalation=escalation)),
    ]
    return modal("Concern sent", blocks, close="Done")


def status_view(
    concern: Concern, thread: Sequence[ConcernMessage], *, sealed: str, notice: str = ""
) -> dict[str, Any]:
    """What `/concern status KEY` shows the sender: status, their text, the replies, Reply and Close.

    `sealed` (bot.concerns.sender_seal) rides in private_metadata: Reply and Close act only with it.
    """
    blocks: list[Block] = []
    if notice:
        blocks.append(section(notice))
    blocks += [
        section(
            f"*{CATEGORIES.get(concern.category, concern.category)}* · {week_label(concern.week)}\n"
            f"*Status:* {STATUSES.get(concern.status, concern.status)}"
        ),
        context("*You wrote:*"),
        typed_section(concern.text),
        *_thread_blocks(thread, viewer="sender"),
    ]
    if not concern.replies_allowed:
        blocks.append(context("You asked the coordinators not to reply."))
    if concern.status != "closed":
        blocks.append(_sender_actions())
    return modal(
        "Your concern",
        blocks,
        callback_id=STATUS_VIEW,
        private_metadata=sealed,
        close="Close",
    )


def _sender_actions() -> Block:
    close_confirm = kit.confirm_dialog(
        "Close this case?",
        "Coordinators will see it as closed by you. You can still read it with your key.",
        confirm="Close case",
        deny="Keep open",
        emoji=False,
    )
    return kit.actions(
        [
            kit.button(
                "Reply",
                ACTION_SENDER_REPLY,
                accessibility_label="Reply anonymously to the coordinators on your concern",
                style="primary",
                emoji=False,
            ),
            kit.button(
                "Close case",
                ACTION_SENDER_CLOSE,
                accessibility_label="Close your concern case",
                emoji=False,
                confirm=close_confirm,
            ),
        ],
        block_id=SENDER_ACTIONS_BLOCK,
    )


def _thread_blocks(thread: Sequence[ConcernMessage], *, viewer: str) -> list[Block]:
    if not thread:
        return [context("No replies yet.")]
    blocks: list[Block] = []
    hidden = len(thread) - MAX_THREAD_SHOWN
    if hidden > 0:
        blocks.append(context(f"{hidden} earlier message(s) not shown."))
    for message in thread[-MAX_THREAD_SHOWN:]:
        blocks += [
            context(f"*{_author(message, viewer)}* · {week_label(message.week)}"),
            typed_section(message.text),
        ]
    return blocks


def _author(message: ConcernMessage, viewer: str) -> str:
    if message.from_sender:
        return "You" if viewer == "sender" else "The sender (anonymous)"
    who = f"<@{message.coordinator_id}>" if message.coordinator_id else "a coordinator"
    return f"Reply from {who}"


def sender_reply_modal(sealed: str) -> dict[str, Any]:
    blocks = [
        section("Your reply is stored just like your concern: without your name, ID or the exact time."),
        text_input("Your reply", hint="No patient identifiers, please."),
    ]
    return modal(
        "Reply anonymously",
        blocks,
        callback_id=SENDER_REPLY,
        private_metadata=sealed,
        submit="Send reply",
        close="Back",
    )


# --- the coordinators' side -----------------------------------------------------------------------------


def _value(concern_id: str, where: str) -> str:
    return json.dumps({"c": concern_id, "v": where}, separators=(",", ":"))


def responder_actions(concern: Concern, *, where: str) -> Block:
    """Reply / Acknowledge / Resolve for one concern; `where` is "list" or "post" (what to redraw)."""
    value = _value(concern.id, where)
    # Named by category and week, as the headline shows it: nothing about the sender.
    about = f"the {CATEGORIES.get(concern.category, concern.category)} concern, {week_label(concern.week)}"
    elements: list[dict[str, Any]] = []
    if concern.replies_allowed and concern.status != "closed":
        elements.append(
            _button(f"{ACTION_REPLY}:{concern.id}", "Reply", value, f"Reply to {about}", "primary")
        )
    if concern.status == "open":
        elements.append(
            _button(f"{ACTION_ACKNOWLEDGE}:{concern.id}", "Acknowledge", value, f"Acknowledge {about}")
        )
    if concern.status in ("open", "acknowledged"):
        elements.append(_button(f"{ACTION_RESOLVE}:{concern.id}", "Resolve", value, f"Resolve {about}"))
    if not elements:
        return context(f"*{STATUSES.get(concern.status, concern.status)}*")
    return kit.actions(elements, block_id=RESPONDER_ACTIONS_BLOCK.format(concern_id=concern.id))


def _button(action_id: str, label: str, value: str, says: str, style: str | None = None) -> dict[str, Any]:
    return kit.button(label, action_id, value, accessibility_label=says, style=style, emoji=False)


def _headline(concern: Concern) -> str:
    urgent = " · :rotating_light: *urgent*" if concern.urgent else ""
    return (
        f"*{CATEGORIES.get(concern.category, concern.category)}*{urgent} · {week_label(concern.week)} · "
        f"_{STATUSES.get(concern.status, concern.status)}_"
    )


def _thread_note(concern: Concern, summary: ThreadSummary | None) -> str:
    parts = [f"Case {case_ref(concern.id)}"]
    if summary is not None:
        last = "the sender" if summary.last_from_sender else "a coordinator"
        parts.append(f"{summary.count} message(s), last from {last}")
    if not concern.replies_allowed:
        parts.append("the sender asked for no replies")
    return " · ".join(parts)


def list_blocks(
    program: Program, concerns: Sequence[Concern], summaries: dict[str, ThreadSummary], total: int
) -> list[Block]:
    """The coordinators' list of open concerns: category, week, status, excerpt and buttons."""
    if not concerns:
        return [section(f"No open concerns in *{program.name}*.")]
    blocks: list[Block] = [section(f"*Open concerns — {program.name}* ({total})")]
    for concern in concerns[:MAX_LISTED]:
        blocks += [
            section(_headline(concern)),
            typed_section(excerpt(concern.text)),
            context(_thread_note(concern, summaries.get(concern.id))),
            responder_actions(concern, where="list"),
        ]
    if total > len(concerns[:MAX_LISTED]):
        blocks.append(
            context(f"…and {total - len(concerns[:MAX_LISTED])} more. Resolve some to see the rest.")
        )
    return blocks[:50]


POST_HEADINGS = {
    "urgent": ":rotating_light: *Urgent concern, raised anonymously in {program}*",
    "escalated": ":shield: *Concern raised anonymously in {program} — it involves the sender's mentor or a "
    "coordinator, so it comes to you instead of the coordinators*",
}


def post_blocks(concern: Concern, program: Program, *, kind: str) -> list[Block]:
    """The anonymous post to the coordinator channel ("urgent") or the escalation contact ("escalated")."""
    return [
        section(POST_HEADINGS[kind].format(program=program.name)),
        section(_headline(concern)),
        typed_section(concern.text),
        context(_thread_note(concern, None) + " · the sender reads replies with their case key"),
        responder_actions(concern, where="post"),
    ]


def post_fallback(concern: Concern, program: Program, *, kind: str) -> str:
    label = "Urgent concern" if kind == "urgent" else "Escalated concern"
    return f"{label} in {program.name}: {CATEGORIES.get(concern.category, concern.category)}"


def coordinator_reply_modal(
    concern: Concern, thread: Sequence[ConcernMessage], *, metadata: str
) -> dict[str, Any]:
    blocks: list[Block] = [
        section(_headline(concern)),
        typed_section(concern.text),
        *_thread_blocks(thread, viewer="coordinator"),
        text_input("Your reply", hint="Stored under your name and audit-logged. No patient identifiers."),
        context("The sender reads your reply with their case key; they cannot be notified."),
    ]
    return modal(
        f"Reply to case {case_ref(concern.id)}",
        blocks,
        callback_id=COORDINATOR_REPLY,
        private_metadata=metadata,
        submit="Send reply",
        close="Cancel",
    )


def reply_saved_view() -> dict[str, Any]:
    text = "Reply saved. The sender sees it the next time they check with their case key."
    return kit.message_modal("Reply saved", text, close="Done", emoji=False)
