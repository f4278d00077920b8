"""Block Kit primitives every surface builds on: text objects, the common blocks, buttons and modals.

Plain dicts, exactly as Slack documents them. Where surfaces differ on purpose, the difference is a
parameter: `emoji` is left out unless a surface sets it (check-ins and reflections let Slack turn
`:shortcodes:` into emoji; concerns show what someone typed verbatim, so they say False).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Block = dict[str, Any]
Element = dict[str, Any]
TextObject = dict[str, Any]
View = dict[str, Any]

MAX_TEXT = 3000  # a section's or a context element's text
MAX_CONTEXT_ELEMENTS = 10
MAX_HEADER = 150
MAX_VIEW_BLOCKS = 100
MAX_BUTTON_LABEL = 75  # a button's face and its accessibility_label


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plain(text: str, *, emoji: bool | None = None) -> TextObject:
    """A plain_text object; `emoji` only appears when a surface chooses it."""
    obj: TextObject = {"type": "plain_text", "text": text}
    if emoji is not None:
        obj["emoji"] = emoji
    return obj


def mrkdwn(text: str) -> TextObject:
    return {"type": "mrkdwn", "text": text}


def section(text: str) -> Block:
    """A section of mrkdwn text, cut to the 3,000 characters Slack accepts."""
    return {"type": "section", "text": mrkdwn(text[:MAX_TEXT])}


def plain_section(text: str, *, emoji: bool | None = None) -> Block:
    """A section of plain text: someone's own words, shown inert (no mentions, no formatting)."""
    return {"type": "section", "text": plain(text, emoji=emoji)}


def context(*texts: str) -> Block:
    """A context block with one mrkdwn element per text (Slack allows ten, of 3,000 characters each)."""
    return {"type": "context", "elements": [mrkdwn(text[:MAX_TEXT]) for text in texts[:MAX_CONTEXT_ELEMENTS]]}


def divider() -> Block:
    return {"type": "divider"}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text[:MAX_HEADER])}


def button(
    label: str,
    action_id: str,
    value: str | None = None,
    *,
    accessibility_label: str,
    style: str | None = None,
    emoji: bool | None = None,
    confirm: dict[str, Any] | None = None,
) -> Element:
    """A button; `style` is "primary" or "danger", `confirm` a confirmation dialog.

    `accessibility_label` is what a screen reader says instead of the face: what the button does and
    to what ("Answer your check-in for Thu 5 Nov"), cut to the 75 characters Slack accepts.
    """
    element: Element = {
        "type": "button",
        "text": plain(label, emoji=emoji),
        "action_id": action_id,
        "accessibility_label": clip(accessibility_label, MAX_BUTTON_LABEL),
    }
    if value is not None:
        element["value"] = value
    if style is not None:
        element["style"] = style
    if confirm is not None:
        element["confirm"] = confirm
    return element


def confirm_dialog(
    title: str, text: str, *, confirm: str, deny: str, emoji: bool | None = None
) -> dict[str, Any]:
    """The "are you sure?" dialog a button can carry."""
    return {
        "title": plain(title, emoji=emoji),
        "text": plain(text, emoji=emoji),
        "confirm": plain(confirm, emoji=emoji),
        "deny": plain(deny, emoji=emoji),
    }


def actions(elements: Iterable[Element], *, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions"}
    if block_id is not None:
        block["block_id"] = block_id
    block["elements"] = list(elements)
    return block


def modal(
    title: str,
    blocks: list[Block],
    *,
    callback_id: str | None = None,
    submit: str | None = None,
    close: str | None = None,
    private_metadata: str | None = None,
    emoji: bool | None = None,
) -> View:
    """A modal view (at most 100 blocks); a modal without `submit` can only be closed."""
    view: View = {"type": "modal", "title": plain(title, emoji=emoji)}
    if callback_id is not None:
        view["callback_id"] = callback_id
    if private_metadata is not None:
        view["private_metadata"] = private_metadata
    if submit is not None:
        view["submit"] = plain(submit, emoji=emoji)
    if close is not None:
        view["close"] = plain(close, emoji=emoji)
    view["blocks"] = blocks[:MAX_VIEW_BLOCKS]
    return view


def message_modal(
    title: str, text: str, *, close: str = "Close", callback_id: str | None = None, emoji: bool | None = None
) -> View:
    """A modal that only shows a message (a result, a refusal, "please wait"), closed with `close`."""
    return modal(title, [section(text)], callback_id=callback_id, close=close, emoji=emoji)
