"""An accessibility audit of everything the bot rendered, read from the calls the fake Slack recorded.

`audit(calls, responses, command_replies)` returns an `Audit`: the surfaces it read (by method) and
every violation, each naming its surface. The rules, one per kind of violation:

fallback
    Every message with `blocks` (chat.postMessage, chat.postEphemeral, chat.update,
    chat.scheduleMessage, posts to a response_url, and a slash command's HTTP reply) carries a `text`
    fallback: it is what notifications, screen readers and old clients show instead of the blocks, so
    it must say what the blocks say. Checked as: at least MIN_FALLBACK characters once mrkdwn is
    stripped; not a generic placeholder (GENERIC_FALLBACKS); and sharing at least one meaningful
    word (a word of four or more letters that is not a stop word) with the blocks' lead — the first
    header and the first section (its text or fields), or the first context block when a message has
    neither.
button
    Every button, in messages and in views (views.publish, views.open, views.update, views.push),
    has an `accessibility_label`: a plain string of at most MAX_LABEL characters that a screen reader
    reads instead of the button's face, so it must say what the button does and to what ("Open Dr.
    Amara Okafor's check-in for the week of 2 Nov"). Checked as: a string, not longer than MAX_LABEL,
    of at least MIN_LABEL_WORDS words, and not merely the button's own text again.
image
    Every image block and image element has an `alt_text` that is not empty and not generic.
chart
    Every image file uploaded (files.getUploadURLExternal, which is where Slack takes `alt_txt`; or
    the older files.upload) carries alt text that states what the picture shows: not generic, at
    least MIN_CHART_ALT characters, and with figures in it (at least one digit) — "Weekly wellbeing,
    last 8 weeks: 3.1 to 3.8", never just "chart".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.fake_slack.models import Call

MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage"})
VIEW_METHODS = frozenset({"views.publish", "views.open", "views.update", "views.push"})
UPLOAD_METHODS = frozenset({"files.getUploadURLExternal", "files.upload"})
RESPONSE_URL = "response_url"
COMMAND_REPLY = "command reply"
REPLIES = frozenset({RESPONSE_URL, COMMAND_REPLY})
IMAGE_FILE = re.compile(r"\.(png|jpe?g|gif|svg|webp)$", re.IGNORECASE)

MIN_FALLBACK = 15
MAX_LABEL = 75
MIN_LABEL_WORDS = 3
MIN_CHART_ALT = 30
GENERIC_FALLBACKS = frozenset(
    {"message", "new message", "mentorbot", "update", "notification", "see blocks", "blocks", "..."}
)
GENERIC_ALT = frozenset({"chart", "image", "graph", "picture", "trend", "trend chart", "plot", "png"})
STOP_WORDS = frozenset(
    "this that with from your have will been were what when they them their there here about into "
    "over also only just than then more most some such each week weeks".split()
)
_MARKUP = re.compile(r"<[^>]*>|:[a-z0-9_+-]+:|[*_~`>•]")
_WORD = re.compile(r"[^\W\d_]{4,}")


@dataclass(frozen=True)
class Violation:
    kind: str  # fallback | button | image | chart
    surface: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.surface}: {self.detail}"


@dataclass
class Audit:
    """What the audit read (method → number of surfaces) and what it found wrong."""

    seen: dict[str, int] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)

    def add(self, violation: Violation) -> None:
        if violation not in self.violations:  # a retried call renders the same surface again
            self.violations.append(violation)

    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for violation in self.violations:
            counts[violation.kind] = counts.get(violation.kind, 0) + 1
        return counts


def audit(
    calls: Iterable[Call],
    responses: Iterable[tuple[str, dict[str, Any]]] = (),
    command_replies: Iterable[tuple[str, dict[str, Any]]] = (),
) -> Audit:
    """Every accessibility violation in the recorded calls, the response_url posts (FakeSlack.responses:
    url id and body) and slash commands' replies (what was typed, and the reply body)."""
    result = Audit()
    for call in calls:
        _audit_one(result, call.method, call.args)
    for url_id, body in responses:
        _audit_one(result, RESPONSE_URL, body, where=url_id)
    for command, body in command_replies:
        _audit_one(result, COMMAND_REPLY, body, where=command)
    return result


def _audit_one(result: Audit, method: str, args: dict[str, Any], where: str = "") -> None:
    if method in MESSAGE_METHODS or method in REPLIES:
        if args.get("delete_original"):
            return
        surface = _message_surface(method, args, where)
        blocks = _blocks(args.get("blocks"))
        _check_fallback(result, surface, args.get("text"), blocks)
    elif method in VIEW_METHODS:
        view = _object(args.get("view"))
        surface = _view_surface(method, args, view)
        blocks = _blocks(view.get("blocks"))
    elif method in UPLOAD_METHODS:
        _check_upload(result, method, args)
        return
    else:
        return
    result.seen[method] = result.seen.get(method, 0) + 1
    for element in _elements(blocks):
        _check_element(result, surface, element)


def _blocks(value: Any) -> list[dict[str, Any]]:
    return [block for block in value if isinstance(block, dict)] if isinstance(value, list) else []


def _message_surface(method: str, args: dict[str, Any], where: str) -> str:
    lead = _lead(_blocks(args.get("blocks"))) or str(args.get("text") or "")
    return f"{method} {'to ' + str(args.get('channel')) if args.get('channel') else where} {_clip(lead)!r}"


def _view_surface(method: str, args: dict[str, Any], view: dict[str, Any]) -> str:
    if view.get("type") == "home":
        return f"{method} App Home of {args.get('user_id')}"
    title = _object(view.get("title"))
    return f"{method} modal {title.get('text')!r} ({view.get('callback_id') or 'no callback_id'})"


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- fallbacks -----------------------------------------------------------------------------------


def _check_fallback(result: Audit, surface: str, text: Any, blocks: list[dict[str, Any]]) -> None:
    if not blocks:
        return  # the text is the message itself
    problem = fallback_problem(text, blocks)
    if problem:
        result.add(Violation("fallback", surface, problem))


def fallback_problem(text: Any, blocks: list[dict[str, Any]]) -> str | None:
    """Why `text` is not a fallback that says what `blocks` say, or None when it is."""
    if not isinstance(text, str) or not text.strip():
        return "no text fallback"
    plain = " ".join(_MARKUP.sub(" ", text).split())
    if plain.lower().strip(" .!:") in GENERIC_FALLBACKS:
        return f"generic fallback {text!r}"
    if len(plain) < MIN_FALLBACK:
        return f"fallback {text!r} is shorter than {MIN_FALLBACK} characters"
    lead = _lead(blocks)
    if lead and not _words(plain) & _words(lead):
        return f"fallback {_clip(text)!r} shares no word with the blocks' lead {_clip(lead)!r}"
    return None


def _lead(blocks: list[dict[str, Any]]) -> str:
    """The first header and the first section's text — what a reader meets first."""
    parts: list[str] = []
    for kind in ("header", "section"):
        block = next((b for b in blocks if b.get("type") == kind), None)
        if block is not None:
            parts.append(_block_text(block))
    if not any(parts):
        context = next((b for b in blocks if b.get("type") == "context"), None)
        parts = [_block_text(context)] if context else []
    return " ".join(part for part in parts if part)


def _block_text(block: dict[str, Any]) -> str:
    texts = [block.get("text")] + list(block.get("fields") or []) + list(block.get("elements") or [])
    return " ".join(t["text"] for t in texts if isinstance(t, dict) and isinstance(t.get("text"), str))


def _words(text: str) -> set[str]:
    found = {word.lower() for word in _WORD.findall(_MARKUP.sub(" ", text))}
    return {word for word in found if word not in STOP_WORDS}


# -- buttons and images --------------------------------------------------------------------------


def _elements(blocks: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every block and element, nested ones included (an accessory, an input's element)."""
    for block in blocks:
        yield block
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                yield block[key]
        for element in block.get("elements") or []:
            if isinstance(element, dict):
                yield element


def _check_element(result: Audit, surface: str, element: dict[str, Any]) -> None:
    kind = element.get("type")
    if kind == "button":
        problem = button_problem(element)
        if problem:
            result.add(Violation("button", surface, problem))
    elif kind == "image":
        alt = element.get("alt_text")
        if not isinstance(alt, str) or not alt.strip() or alt.strip().lower() in GENERIC_ALT:
            result.add(Violation("image", surface, f"image {element.get('image_url')!r} alt_text {alt!r}"))


def button_problem(button: dict[str, Any]) -> str | None:
    """Why a button's accessibility_label does not say what it does and to what, or None."""
    face = button.get("text", {}).get("text", "") if isinstance(button.get("text"), dict) else ""
    label = button.get("accessibility_label")
    name = f"button {face!r} ({button.get('action_id')})"
    if not isinstance(label, str) or not label.strip():
        return f"{name} has no accessibility_label"
    if len(label) > MAX_LABEL:
        return f"{name} accessibility_label is longer than {MAX_LABEL} characters"
    if label.strip().lower() == face.strip().lower() or len(label.split()) < MIN_LABEL_WORDS:
        return f"{name} accessibility_label {label!r} does not say what it does and to what"
    return None


# -- uploads -------------------------------------------------------------------------------------


def _check_upload(result: Audit, method: str, args: dict[str, Any]) -> None:
    filename = str(args.get("filename") or "")
    result.seen[method] = result.seen.get(method, 0) + 1
    if not IMAGE_FILE.search(filename):
        return
    alt = args.get("alt_txt") or args.get("alt_text")
    problem = chart_alt_problem(alt)
    if problem:
        result.add(Violation("chart", f"{method} {filename!r}", problem))


def chart_alt_problem(alt: Any) -> str | None:
    """Why an uploaded picture's alt text does not state what it shows, or None."""
    if not isinstance(alt, str) or not alt.strip():
        return "no alt text (alt_txt)"
    if alt.strip().lower() in GENERIC_ALT or len(alt) < MIN_CHART_ALT:
        return f"alt text {alt!r} is generic or too short to state the trend"
    if not re.search(r"\d", alt):
        return f"alt text {alt!r} states no figures"
    return None
