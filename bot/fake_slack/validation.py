"""Block Kit, view and message-limit validation, mirroring what Slack rejects.

The slack_sdk models do the per-object limit checks (text lengths, element counts); the
cross-object rules Slack enforces but the models do not (unknown types, unique ids, input
labels) are checked here. Results are cached by the canonical JSON of the input: validation
is a pure function of that text, and fan-outs repeat most blocks verbatim.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, BlockElement
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT_CHARS = 40_000
MAX_SECTION_FIELDS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_DISPLAY_TEXT = 4_000  # Slack accepts up to MAX_TEXT_CHARS but shows only this much of a message's text
MAX_CONTEXT_TEXT = 3_000
MAX_FIELD_TEXT = 2_000
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_CHOICE_OPTIONS = 10  # checkboxes and radio_buttons
MAX_SELECT_OPTIONS = 100
VIEW_TYPES = frozenset({"modal", "home"})
_VIEW_FIELDS = (
    "type",
    "title",
    "submit",
    "close",
    "callback_id",
    "private_metadata",
    "external_id",
    "clear_on_close",
    "notify_on_close",
)
_MODEL_ERRORS = (SlackObjectFormationError, TypeError, ValueError, AttributeError, KeyError)


def _subclass_types(cls: type) -> frozenset[str]:
    found: set[str] = set()
    subclasses: list[type] = cls.__subclasses__()
    for sub in subclasses:
        found |= _subclass_types(sub)
        kind = getattr(sub, "type", None)
        if isinstance(kind, str):
            found.add(kind)
    return frozenset(found)


BLOCK_TYPES = _subclass_types(Block)
ELEMENT_TYPES = _subclass_types(BlockElement)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def validate_blocks(blocks: Any, max_blocks: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    """Return human-readable problems with a `blocks` list; empty when Slack would accept it."""
    if not isinstance(blocks, list):
        return ["blocks must be a JSON array"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"no more than {max_blocks} items allowed [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        try:
            problems = _cached_block_problems(_canonical(block))
        except (TypeError, ValueError):
            problems = ("block must be JSON-serialisable",)
        errors.extend(f"{problem} [json-pointer:/blocks/{index}]" for problem in problems)
    errors.extend(_duplicate_id_problems(blocks))
    return errors


@lru_cache(maxsize=8192)
def _cached_block_problems(key: str) -> tuple[str, ...]:
    # Keyed per block rather than per message: personalised fan-outs differ in one or two
    # blocks while the expensive ones (buttons, actions) repeat verbatim.
    return tuple(_block_problems(json.loads(key)))


def _block_problems(block: Any) -> list[str]:
    if not isinstance(block, dict):
        return ["block must be an object"]
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        return [f"unknown block type {kind!r}"]
    problems = _structural_problems(kind, block)
    if problems:
        return problems
    try:
        parsed = Block.parse(block)
        if parsed is None:
            return [f"unparseable block of type {kind!r}"]
        parsed.to_dict()  # to_dict validates the block and every nested object
    except _MODEL_ERRORS as exc:
        return [f"{kind}: {exc}"]
    return []


def _structural_problems(kind: str, block: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if kind == "section":
        if not block.get("text") and not block.get("fields"):
            problems.append("section must have text or fields")
        if len(block.get("fields") or []) > MAX_SECTION_FIELDS:
            problems.append(f"section cannot have more than {MAX_SECTION_FIELDS} fields")
    elif kind == "actions":
        elements = block.get("elements") or []
        if not elements:
            problems.append("actions must have at least one element")
        if len(elements) > MAX_ACTIONS_ELEMENTS:
            problems.append(f"actions cannot have more than {MAX_ACTIONS_ELEMENTS} elements")
    elif kind == "input":
        if not _has_text(block.get("label")):
            problems.append("input must have a plain_text label")
        if not isinstance(block.get("element"), dict):
            problems.append("input must have an element")
    problems.extend(_text_limit_problems(kind, block))
    for element in _interactive_elements(block):
        if element.get("type") not in ELEMENT_TYPES:
            problems.append(f"unknown element type {element.get('type')!r}")
        problems.extend(_option_problems(element))
        problems.extend(_label_problems(element))
    return problems


def _label_problems(element: dict[str, Any]) -> list[str]:
    # The slack_sdk model checks the 75-character limit but takes any non-string, or "", as a label.
    label = element.get("accessibility_label")
    if "accessibility_label" not in element or (isinstance(label, str) and label):
        return []
    return [f"{element.get('type')}: accessibility_label must be a non-empty string"]


def _text_limit_problems(kind: str, block: dict[str, Any]) -> list[str]:
    # Limits Slack documents that the slack_sdk models leave unchecked.
    if kind == "context":
        texts, limit = block.get("elements") or [], MAX_CONTEXT_TEXT
    elif kind == "section":
        texts, limit = block.get("fields") or [], MAX_FIELD_TEXT
    else:
        return []
    too_long = [t for t in texts if isinstance(t, dict) and len(str(t.get("text", ""))) > limit]
    return [f"{kind}: text cannot exceed {limit} characters"] if too_long else []


def _option_problems(element: dict[str, Any]) -> list[str]:
    options = _all_options(element)
    problems: list[str] = []
    if (
        element.get("type") in ("checkboxes", "radio_buttons")
        and len(element.get("options") or []) > MAX_CHOICE_OPTIONS
    ):
        problems.append(f"{element['type']}: no more than {MAX_CHOICE_OPTIONS} options allowed")
    for option in options:
        if len(_text_of(option.get("text"))) > MAX_OPTION_TEXT:
            problems.append(f"option text cannot exceed {MAX_OPTION_TEXT} characters")
        if len(_text_of(option.get("description"))) > MAX_OPTION_TEXT:
            problems.append(f"option description cannot exceed {MAX_OPTION_TEXT} characters")
        if len(str(option.get("value", ""))) > MAX_OPTION_VALUE:
            problems.append(f"option value cannot exceed {MAX_OPTION_VALUE} characters")
    return list(dict.fromkeys(problems))


def _all_options(element: dict[str, Any]) -> list[dict[str, Any]]:
    found = [*(element.get("options") or []), *(element.get("initial_options") or [])]
    for group in element.get("option_groups") or []:
        if isinstance(group, dict):
            found.extend(group.get("options") or [])
    if isinstance(element.get("initial_option"), dict):
        found.append(element["initial_option"])
    return [option for option in found if isinstance(option, dict)]


def _text_of(value: Any) -> str:
    return str(value.get("text", "")) if isinstance(value, dict) else str(value or "")


def display_problems(text: str | None) -> list[str]:
    """Problems with a message's plain `text`: accepted up to 40,000 characters, shown only to 4,000."""
    if text is not None and len(text) > MAX_DISPLAY_TEXT:
        return [f"text of {len(text)} characters is cut to {MAX_DISPLAY_TEXT} when shown"]
    return []


def _has_text(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value)
    return isinstance(value, dict) and bool(value.get("text"))


def _interactive_elements(block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("accessory", "element"):
        value = block.get(key)
        if isinstance(value, dict):
            yield value
    if block.get("type") in ("actions", "context_actions"):
        for value in block.get("elements") or []:
            if isinstance(value, dict):
                yield value


def _duplicate_id_problems(blocks: list[Any]) -> list[str]:
    problems: list[str] = []
    block_ids: set[str] = set()
    action_ids: set[str] = set()
    for block in blocks:
        if not isinstance(block, dict):
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in block_ids:
                problems.append(f"duplicate block_id {block_id!r}")
            block_ids.add(block_id)
        for element in _interactive_elements(block):
            action_id = element.get("action_id")
            if action_id is None:
                continue
            if action_id in action_ids:
                problems.append(f"duplicate action_id {action_id!r}")
            action_ids.add(action_id)
    return problems


def validate_view(view: Any, require_type: str | None = None) -> list[str]:
    """Return problems with a modal/home `view` object; `require_type` pins the view type."""
    if not isinstance(view, dict):
        return ["view must be a JSON object"]
    try:
        key = _canonical(view)
    except (TypeError, ValueError):
        return ["view must be JSON-serialisable"]
    return list(_validate_view_cached(key, require_type))


@lru_cache(maxsize=2048)
def _validate_view_cached(key: str, require_type: str | None) -> tuple[str, ...]:
    view: dict[str, Any] = json.loads(key)
    kind = view.get("type")
    if kind not in VIEW_TYPES:
        return (f"view type must be one of {sorted(VIEW_TYPES)}, got {kind!r}",)
    if require_type is not None and kind != require_type:
        return (f"view type must be {require_type!r}, got {kind!r}",)
    errors: list[str] = []
    if kind == "modal" and not _has_text(view.get("title")):
        errors.append("modal must have a title")
    errors.extend(_view_shell_problems(view))
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        errors.append("view must have between 1 and 100 blocks")
    else:
        errors.extend(validate_blocks(blocks, MAX_VIEW_BLOCKS))
    return tuple(errors)


def _view_shell_problems(view: dict[str, Any]) -> list[str]:
    # Blocks are validated separately so their errors carry block positions.
    shell = {field: view[field] for field in _VIEW_FIELDS if field in view}
    try:
        model = View(**shell)
        model.blocks = None  # type: ignore[assignment]  # else the empty list fails the count check
        model.to_dict()
    except _MODEL_ERRORS as exc:
        return [f"view: {exc}"]
    return []


def validate_options_response(body: Any) -> list[str]:
    """Problems with a `block_suggestion` answer: Slack shows at most 100 options, each of the usual size."""
    if not isinstance(body, dict):
        return ["options response must be a JSON object"]
    options = body.get("options") or []
    groups = body.get("option_groups") or []
    problems = [] if isinstance(options, list) and isinstance(groups, list) else ["options must be an array"]
    if problems:
        return problems
    if len(options) > MAX_SELECT_OPTIONS or len(groups) > MAX_SELECT_OPTIONS:
        problems.append(f"no more than {MAX_SELECT_OPTIONS} options allowed")
    return problems + _option_problems(
        {"type": "external_select", "options": options, "option_groups": groups}
    )


def validate_metadata(metadata: Any) -> list[str]:
    if not isinstance(metadata, dict):
        return ["metadata must be a JSON object"]
    problems: list[str] = []
    if not isinstance(metadata.get("event_type"), str) or not metadata["event_type"]:
        problems.append("metadata.event_type must be a non-empty string")
    if not isinstance(metadata.get("event_payload"), dict):
        problems.append("metadata.event_payload must be an object")
    return problems
