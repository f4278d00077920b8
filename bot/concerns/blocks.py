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
from storage.models import Concern, ConcernMessage
from storage.repositories.concerns import ThreadSummary

Block = dict[str, Any]

SUBMIT = "concern_submit"
SENDER_REPLY = "concern_sender_reply"
COORDINATOR_REPLY = "concern_coordinator_reply"
ACTION_REPLY = "concern_reply"
ACTION_ACKNOWLEDGE = "concern_acknowledge"
ACTION_RESOLVE = "concern_resolve"
ACTION_SENDER_REPLY = "concern_sender_reply"
ACTION_SENDER_CLOSE = "concern_sender_close"
TEXT_BLOCK, TEXT_ACTION = "text", "text"
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


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": False}


def mrkdwn_section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def typed_section(text: str) -> Block:
    """Someone's own words, shown verbatim and inert."""
    return {"type": "section", "text": plain(text[:MAX_TEXT])}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t} for t in texts[:10]]}


def modal(title: str, blocks: list[Block], **extra: Any) -> dict[str, Any]:
    view: dict[str, Any] = {"type": "modal", "title": plain(title), "blocks": blocks[:100]}
    view.update(extra)
    return view


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
        mrkdwn_section("Raise a concern *anonymously*. Coordinators see what you write, never who wrote it."),
        mrkdwn_section(WHAT_IS_STORED),
    ]
    if notes:
        blocks.append(context(*notes))
    if len(programs) > 1:
        options = [{"text": plain(p.name[:75]), "value": p.id} for p in programs]
        blocks.append(
            _input(
                "program", "Program", {"type": "static_select", "action_id": "program", "options": options}
            )
        )
    return modal(
        "Raise a concern",
        blocks + _form_inputs(initial_text),
        callback_id=SUBMIT,
        submit=plain("Send anonymously"),
        close=plain("Cancel"),
        private_metadata=metadata,
    )


def _form_inputs(initial_text: str) -> list[Block]:
    no_phi = "No patient identifiers (names, record numbers, dates of birth, room or bed numbers)."
    replies = "Coordinators may reply to me (I read replies with my case key)"
    return [
        _input("category", "What is it about?", radio("category", list(CATEGORIES.items()))),
        _input("urgency", "How urgent is it?", radio("urgency", URGENCY_OPTIONS, "routine")),
        text_input("What happened?", hint=no_phi, initial=initial_text),
        _input("replies", "Follow-up", checkbox("replies", "yes", replies, checked=True), optional=True),
        _input(
            "involves",
            "Who is involved?",
            checkbox("involves", "yes", "This involves my mentor or a coordinator", checked=False),
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
        mrkdwn_section(":white_check_mark: *Your concern was sent anonymously.*"),
        mrkdwn_section(f"*Your case key:* `{case_key}`"),
        mrkdwn_section(
            "This is the *only* time it is shown. Keep it somewhere private, outside Slack. "
            f"Type `/concern status {case_key}` to read replies and answer, still anonymously. "
            "We cannot notify you of replies, because we do not know who you are."
        ),
        mrkdwn_section(NEXT_STEPS[route].format(escalation=escalation)),
    ]
    return modal("Concern sent", blocks, close=plain("Done"))


def status_view(concern: Concern, thread: Sequence[ConcernMessage], *, notice: str = "") -> dict[str, Any]:
    """What `/concern status KEY` shows the sender: status, their text, the replies, Reply and Close."""
    blocks: list[Block] = []
    if notice:
        blocks.append(mrkdwn_section(notice))
    blocks += [
        mrkdwn_section(
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
        callback_id="concern_status",
        private_metadata=concern.id,
        close=plain("Close"),
    )


def _sender_actions() -> Block:
    close_confirm = {
        "title": plain("Close this case?"),
        "text": plain("Coordinators will see it as closed by you. You can still read it with your key."),
        "confirm": plain("Close case"),
        "deny": plain("Keep open"),
    }
    return {
        "type": "actions",
        "block_id": "sender_actions",
        "elements": [
            {"type": "button", "action_id": ACTION_SENDER_REPLY, "text": plain("Reply"), "style": "primary"},
            {
                "type": "button",
                "action_id": ACTION_SENDER_CLOSE,
                "text": plain("Close case"),
                "confirm": close_confirm,
            },
        ],
    }


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


def sender_reply_modal(concern_id: str) -> dict[str, Any]:
    blocks = [
        mrkdwn_section(
            "Your reply is stored just like your concern: without your name, ID or the exact time."
        ),
        text_input("Your reply", hint="No patient identifiers, please."),
    ]
    return modal(
        "Reply anonymously",
        blocks,
        callback_id=SENDER_REPLY,
        private_metadata=concern_id,
        submit=plain("Send reply"),
        close=plain("Back"),
    )


# --- the coordinators' side -----------------------------------------------------------------------------


def _value(concern_id: str, where: str) -> str:
    return json.dumps({"c": concern_id, "v": where}, separators=(",", ":"))


def responder_actions(concern: Concern, *, where: str) -> Block:
    """Reply / Acknowledge / Resolve for one concern; `where` is "list" or "post" (what to redraw)."""
    value = _value(concern.id, where)
    elements: list[dict[str, Any]] = []
    if concern.replies_allowed and concern.status != "closed":
        elements.append(_button(f"{ACTION_REPLY}:{concern.id}", "Reply", value, style="primary"))
    if concern.status == "open":
        elements.append(_button(f"{ACTION_ACKNOWLEDGE}:{concern.id}", "Acknowledge", value))
    if concern.status in ("open", "acknowledged"):
        elements.append(_button(f"{ACTION_RESOLVE}:{concern.id}", "Resolve", value))
    if not elements:
        return context(f"*{STATUSES.get(concern.status, concern.status)}*")
    return {"type": "actions", "block_id": f"concern:{concern.id}", "elements": elements}


def _button(action_id: str, label: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id, "text": plain(label), "value": value}
    if style:
        button["style"] = style
    return button


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
        return [mrkdwn_section(f"No open concerns in *{program.name}*.")]
    blocks: list[Block] = [mrkdwn_section(f"*Open concerns — {program.name}* ({total})")]
    for concern in concerns[:MAX_LISTED]:
        blocks += [
            {"type": "section", "text": {"type": "mrkdwn", "text": _headline(concern)}},
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
        mrkdwn_section(POST_HEADINGS[kind].format(program=program.name)),
        mrkdwn_section(_headline(concern)),
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
        mrkdwn_section(_headline(concern)),
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
        submit=plain("Send reply"),
        close=plain("Cancel"),
    )


def reply_saved_view() -> dict[str, Any]:
    text = "Reply saved. The sender sees it the next time they check with their case key."
    return modal("Reply saved", [mrkdwn_section(text)], close=plain("Done"))
