"""The digest as Block Kit: one message of at most 50 blocks, sections of at most 3,000 characters.

Long parts (many concerns, many overdue pairs) are packed line by line into as many sections as they
need; if the whole would still pass 50 blocks the tail is cut and a last line says where to look.
Free text from people is escaped so it cannot mention, link or format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.concerns.terms import CATEGORIES
from bot.digests.activity import ConcernStats, OverdueLine, PairStats
from bot.digests.content import Digest
from bot.digests.figures import PENDING, Figure
from bot.digests.stats import WeekCounts
from bot.digests.trend_chart import GAP, sparkline
from bot.ideas.stats import IdeaDigest
from bot.ideas.terms import STAGE_LABELS
from bot.kernel.suppression import OVERLAP, SEEN, SMALL
from bot.kernel.text import escape
from bot.reflections.terms import TOPICS, competency_label
from bot.slack import blocks as kit
from bot.slack.blocks import Block, Element, View, context, divider, header, section

MAX_BLOCKS = 50
MAX_SECTION = kit.MAX_TEXT
MAX_HEADER = kit.MAX_HEADER
PREVIEW_ACTION = "digest_preview_home"
# App Home makes action ids unique per view: the first program's button is plain, later ones add ".PROGRAM".
PREVIEW_ACTIONS = re.compile(rf"^{PREVIEW_ACTION}(\.[a-z0-9-]+)?$")
PREVIEW_TITLE = "Digest preview"
MAX_CONCERN_CHARS = 1200
SCALES = {"wellbeing": (1, 5), "psych": (1, 7)}
TITLES = {"wellbeing": "Wellbeing", "psych": "Psychological safety"}


@dataclass(frozen=True)
class DigestMessage:
    text: str  # notification fallback
    blocks: list[Block]


def day(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b}"


def render_digest(digest: Digest, *, text_trend: bool, note: str | None = None) -> DigestMessage:
    """The digest message; `text_trend` adds the sparkline trend used when no chart image goes with it."""
    blocks: list[Block] = [*_heading(digest, note), section(_participation(digest))]
    blocks += [section(_answers(digest, metric)) for metric in ("wellbeing", "psych")]
    blocks.append(
        section(_text_trend(digest)) if text_trend else context("📈 The 8-week trend chart follows.")
    )
    blocks += [divider(), *_sections(_concern_lines(digest.concerns))]
    blocks += [divider(), *_sections(_pair_lines(digest.pairs))]
    blocks += _highlight(digest.pairs)
    blocks += _idea_blocks(digest.ideas)
    return DigestMessage(text=_fallback(digest), blocks=fit_blocks(blocks))


def _fallback(digest: Digest) -> str:
    week = digest.this_week
    answered = f"{week.answered} of {week.sent} check-ins answered"
    return f"Weekly digest for {digest.program.name}, week of {day(digest.week)}: {answered}."


def _heading(digest: Digest, note: str | None) -> list[Block]:
    title = f"Weekly digest · {digest.program.name}"[:MAX_HEADER]
    k = digest.program.privacy.min_group_size
    sunday = digest.week + timedelta(days=6)
    span = f"Week of {day(digest.week)} – {day(sunday)} {sunday:%Y}"
    blocks = [
        header(title),
        context(f"{span} · averages need at least {k} answers"),
    ]
    if note:
        blocks.append(context(note))
    return blocks


def _rate(week: WeekCounts | None) -> float | None:
    return week.answered / week.sent if week is not None and week.sent else None


def _participation(digest: Digest) -> str:
    week = digest.this_week
    lines = ["*Participation*"]
    if not week.sent:
        lines.append("No check-in prompts went out this week.")
    else:
        rate, before = _rate(week), _rate(digest.last_week)
        change = ""
        if rate is not None and before is not None:
            points = round((rate - before) * 100)
            change = f", {'▲' if points > 0 else '▼' if points < 0 else '='} {abs(points)} pts from last week"
        lines.append(f"Prompts sent: {week.sent} · answered: {week.answered} ({rate:.0%}{change})")
    lines.append(f"Paused: {week.paused} · missed while the bot was down: {week.missed}")
    return "\n".join(lines)


def hidden_text(figure: Figure, min_group_size: int, *, short: bool = False) -> str:
    """Why a figure is hidden, in words a coordinator can act on."""
    if figure.reason == PENDING:
        if short:
            return "not yet available"
        return "not yet available — team-climate answers are counted when the week's digest is due"
    if figure.reason == SMALL:
        if short:
            return f"hidden (fewer than {min_group_size} answers)"
        return f"fewer than {min_group_size} answers — hidden to protect anonymity"
    if figure.reason == SEEN:
        if short:
            return f"hidden (fewer than {min_group_size} answers that no one mentor sees)"
        return (
            f"hidden — fewer than {min_group_size} of its answers are unseen by any one mentor, "
            "who could otherwise subtract their own mentees'"
        )
    if figure.reason == OVERLAP:
        if short:
            return "hidden (it could be subtracted from another figure)"
        return f"hidden — it differs from another figure shown by fewer than {min_group_size} people"
    return "hidden — it can no longer be checked against earlier weeks"


def figure_text(figure: Figure, min_group_size: int, *, bold: bool = False, short: bool = False) -> str:
    if figure.mean is None:
        return hidden_text(figure, min_group_size, short=short)
    value = f"*{figure.mean:.1f}*" if bold else f"{figure.mean:.1f}"
    return f"{value} ({figure.n} answers)"


def _answers(digest: Digest, metric: str) -> str:
    k = digest.program.privacy.min_group_size
    low, high = SCALES[metric]
    scale = f"{low}–{high}, reverse-scored items, higher is safer" if metric == "psych" else f"{low}–{high}"
    figure = digest.figure(metric)
    line = figure_text(figure, k, bold=True) if figure.n else "No answers this week."
    if len(digest.series.weeks) > 1 and (previous := digest.figure(metric, weeks_ago=1).mean) is not None:
        line += f" · last week {previous:.1f}"
    lines = [f"*{TITLES[metric]}* ({scale})", line]
    if figure.n and figure.reason != PENDING:
        lines.append(_split_line(digest, metric, k))
    return "\n".join(lines)


def _split_line(digest: Digest, metric: str, k: int) -> str:
    met, others = digest.figure(metric, "met"), digest.figure(metric, "not_met")
    if met.mean is None and others.mean is None:
        return f"By meeting their mentor this week: hidden (each side needs {k} answers)"
    return (
        f"Met their mentor this week: {figure_text(met, k, short=True)} · "
        f"did not say so: {figure_text(others, k, short=True)}"
    )


def _text_trend(digest: Digest) -> str:
    rows = ["*8-week trend* (oldest to newest; " + GAP + " = hidden or no answers)"]
    for metric in ("wellbeing", "psych"):
        low, high = SCALES[metric]
        values = digest.trend(metric)
        latest = next((f"{v:.1f}" for v in reversed(values) if v is not None), "–")
        rows.append(f"`{TITLES[metric]:<20} {sparkline(values, low=low, high=high)}`  latest shown {latest}")
    return "\n".join(rows)


def _label(slug: str) -> str:
    return slug.replace("-", " ").replace("_", " ")


def _category(slug: str) -> str:
    return escape(CATEGORIES.get(slug, _label(slug)))


def _concern_lines(stats: ConcernStats) -> list[str]:
    lines = ["*Concerns* (escalated concerns go only to the escalation contact and never appear here)"]
    total = sum(stats.new_by_category.values())
    if total:
        parts = ", ".join(f"{_category(c)} {n}" for c, n in stats.new_by_category.items())
        urgent = f" ({stats.new_urgent} urgent, sent to coordinators at once)" if stats.new_urgent else ""
        lines.append(f"New this week: {total} — {parts}{urgent}")
    else:
        lines.append("No new concerns this week.")
    median = "–" if stats.median_days_to_first_reply is None else f"{stats.median_days_to_first_reply:g}"
    lines.append(
        f"Open for more than 14 days: {stats.open_over_14_days} · "
        f"median days to first reply (last 8 weeks): {median}"
    )
    for item in stats.new_items:
        text = item.text if len(item.text) <= MAX_CONCERN_CHARS else item.text[:MAX_CONCERN_CHARS] + "…"
        quoted = "\n".join("> " + escape(line) for line in text.splitlines() or [""])
        lines.append(f"_{_category(item.category)}_\n{quoted}")
    unlisted = total - stats.new_urgent - len(stats.new_items)
    if unlisted > 0:
        lines.append(f"…and {unlisted} more: type `/mentorship concerns` to read them all.")
    return lines


def _pair_lines(stats: PairStats) -> list[str]:
    hours = stats.confirmed_minutes / 60
    lines = [
        "*Pairs*",
        f"Sessions logged: {stats.sessions_logged} · confirmed protected hours: {hours:g}"
        if hours == int(hours)
        else f"Sessions logged: {stats.sessions_logged} · confirmed protected hours: {hours:.1f}",
    ]
    if stats.top_topics:
        lines.append(
            "Top topics: "
            + ", ".join(f"{escape(TOPICS.get(t, _label(t)))} ({n})" for t, n in stats.top_topics)
        )
    if stats.competencies:
        shown = ", ".join(f"{escape(competency_label(c))} ({n})" for c, n in stats.competencies)
        lines.append(f"Competencies demonstrated: {shown}")
    lines += _overdue_lines(stats.overdue, stats.overdue_total)
    return lines


def _overdue_lines(overdue: list[OverdueLine], total: int) -> list[str]:
    if not total:
        return ["No pair is overdue for a session."]
    lines = [f"Overdue for a session ({total}):"]
    for pair in overdue:
        since = f"last session {day(pair.last_session)}" if pair.last_session else "no session yet"
        lines.append(f"• {escape(pair.mentor)} & {escape(pair.mentee)} — {pair.days_since} days, {since}")
    if total > len(overdue):
        more = total - len(overdue)
        lines.append(f"…and {more} more, longest first above; each mentor sees their own on App Home.")
    return lines


def _highlight(stats: PairStats) -> list[Block]:
    if stats.highlight is None:
        return []
    text = stats.highlight.text[:MAX_CONCERN_CHARS]
    quoted = "\n".join("> " + escape(line) for line in text.splitlines())
    return _sections([f"*Reciprocal learning* — shared by {escape(stats.highlight.author)}", quoted])


def _idea_blocks(ideas: IdeaDigest | None) -> list[Block]:
    """Shared ideas by stage and the changes adopted this week; nothing when no idea was shared."""
    if ideas is None:
        return []
    stages = " · ".join(f"{STAGE_LABELS[stage]}: {n}" for stage, n in ideas.by_stage)
    lines = ["*Ideas and small tests* (only those their authors shared)", stages]
    if ideas.adopted:
        lines += ["Adopted this week:", *(f"• {escape(summary)}" for summary in ideas.adopted)]
    return [divider(), *_sections(lines)]


def pack_lines(lines: list[str], limit: int = MAX_SECTION) -> list[str]:
    """Join lines into as few chunks of at most `limit` characters as fit; split any longer line."""
    chunks: list[str] = []
    current = ""
    for piece in (part for line in lines for part in _split_long(line, limit)):
        candidate = f"{current}\n{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
            continue
        chunks.append(current)
        current = piece
    if current:
        chunks.append(current)
    return chunks


def _split_long(line: str, limit: int) -> list[str]:
    return [line[i : i + limit] for i in range(0, len(line), limit)] or [""]


def _sections(lines: list[str]) -> list[Block]:
    return [section(chunk) for chunk in pack_lines(lines)]


def fit_blocks(blocks: list[Block], limit: int = MAX_BLOCKS) -> list[Block]:
    """At most `limit` blocks: the tail is replaced by a note saying where the rest can be read."""
    if len(blocks) <= limit:
        return blocks
    note = context(
        "The digest was cut to fit one Slack message: type `/mentorship concerns` for every concern."
    )
    return [*blocks[: limit - 1], note]


# -- the preview (App Home's button and its modal) -------------------------------------------------------


def preview_button(program_id: str, *, first: bool, program_name: str) -> Element:
    """The "Preview digest" button for one program; Slack wants action ids unique within a view."""
    action_id = PREVIEW_ACTION if first else f"{PREVIEW_ACTION}.{program_id}"
    says = f"Preview this week's digest for {program_name}"
    return kit.button("Preview digest", action_id, program_id, accessibility_label=says)


def preview_modal(blocks: list[Block]) -> View:
    return kit.modal(PREVIEW_TITLE, blocks, close="Close")


def preview_message_modal(text: str) -> View:
    """The preview modal while the digest is built, or saying why there is none."""
    return kit.message_modal(PREVIEW_TITLE, text)
