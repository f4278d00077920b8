"""Caps for lists of any length: show what fits Slack's limits, then say how many more and where they are.

Every surface that lists people, pairs or sessions goes through these, so a workspace ten times the
expected size gets a shorter list with an "…and N more" line instead of a payload Slack rejects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.slack.blocks import MAX_TEXT, MAX_VIEW_BLOCKS, Block, context

MAX_OPTIONS = 100  # a static select, and an external select's answer
MAX_MESSAGE_TEXT = 3_500  # Slack shows 4,000 characters of a message's text; leave room for a prefix


def more_line(hidden: int, where: str) -> str:
    """The line that ends a capped list: "…and 12 more — where to see them"."""
    return f"…and {hidden:,} more — {where}" if where else f"…and {hidden:,} more."


def capped_lines(lines: Sequence[str], *, where: str, max_lines: int, max_chars: int = MAX_TEXT) -> list[str]:
    """The first lines that fit both `max_lines` and `max_chars` (joined by newlines), plus a more line."""
    if len(lines) <= max_lines and sum(len(line) + 1 for line in lines) - 1 <= max_chars:
        return list(lines)
    budget = max_chars - len(more_line(len(lines), where)) - 1  # the more line fits too
    shown: list[str] = []
    used = 0
    for line in lines[:max_lines]:
        if used + len(line) + 1 > budget:
            break
        shown.append(line)
        used += len(line) + 1
    if len(shown) < len(lines):
        shown.append(more_line(len(lines) - len(shown), where))
    return shown


def capped_text(lines: Sequence[str], *, where: str, max_lines: int, max_chars: int = MAX_TEXT) -> str:
    """`capped_lines` joined into one text (a section's, or an ephemeral message's)."""
    return "\n".join(capped_lines(lines, where=where, max_lines=max_lines, max_chars=max_chars))


def capped_blocks(
    blocks: Sequence[Block], *, limit: int = MAX_VIEW_BLOCKS, note: Callable[[int], str]
) -> list[Block]:
    """At most `limit` blocks; when some are cut, the last kept slot says how many with `note(hidden)`."""
    if len(blocks) <= limit:
        return list(blocks)
    kept = list(blocks[: limit - 1])
    return [*kept, context(note(len(blocks) - len(kept)))]
