"""Ideas on the App Home: the caller's pairs' ideas by stage, each with the buttons that apply to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.ideas.blocks import HomeIdea, IdeaView, home_idea_blocks, stage_heading
from bot.ideas.cards import idea_views, name_of, other_member, viewer
from bot.ideas.terms import STAGE_LABELS, STAGES
from bot.kernel.deps import Deps
from bot.kernel.roles import UserRoles
from bot.kernel.text import escape
from bot.slack.blocks import Block, context, section
from storage.models import Pair
from storage.repositories.ideas import ideas_by, ideas_of_pairs
from storage.repositories.pairs import active_pairs_of

MAX_IDEAS = 8  # two blocks each, of the Home tab's 100 shared with the other sections
INTRO = (
    "*Ideas and small tests*\nNoticed something in practice that could work better? `/idea` records it "
    "for you and your {other}; then test it in small Plan-Do-Study-Act cycles."
)


def home_blocks(session: Session, *, deps: Deps, roles: UserRoles, now: datetime) -> list[Block]:
    """The ideas of the caller's active pairs, grouped by stage (only the pair sees them here)."""
    pairs = [p for p in active_pairs_of(session, user_id=roles.user_id) if deps.programs.get(p.program_id)]
    if not pairs:
        return []
    ideas = ideas_of_pairs(session, pair_ids=[p.id for p in pairs])
    if not ideas:
        other = "mentee" if all(p.mentor_id == roles.user_id for p in pairs) else "mentor"
        return [section(INTRO.format(other=other))]
    by_pair = {p.id: p for p in pairs}
    views = idea_views(session, ideas)
    pair_of = {view.idea_id: by_pair[idea.pair_id] for view, idea in zip(views, ideas, strict=True)}
    labels = {p.id: f"with {escape(name_of(session, other_member(p, roles.user_id)))}" for p in pairs}
    blocks = [section("*Ideas and small tests* — `/idea` records a new one")]
    blocks += _by_stage(views, pair_of, labels, roles.user_id)
    if len(views) > MAX_IDEAS:
        blocks.append(context(f"…and {len(views) - MAX_IDEAS} more: `/idea list` shows them all."))
    return blocks


def _by_stage(
    views: list[IdeaView], pair_of: dict[int, Pair], labels: dict[int, str], user_id: str
) -> list[Block]:
    blocks: list[Block] = []
    shown = 0
    for stage in STAGES:
        group = [view for view in views if view.stage == stage][: MAX_IDEAS - shown]
        if not group:
            continue
        blocks.append(stage_heading(stage, sum(1 for view in views if view.stage == stage)))
        for view in group:
            pair = pair_of[view.idea_id]
            item = HomeIdea(view, viewer(view, pair, user_id), labels[pair.id])
            blocks.extend(home_idea_blocks(item))
        shown += len(group)
    return blocks


def list_text(session: Session, *, user_id: str) -> str:
    """`/idea list`: the ideas of the caller's pairs (ended ones too), by stage, for them alone."""
    found = ideas_by(session, user_id=user_id, limit=50)
    if not found:
        return "You have no ideas recorded yet. Type `/idea` to record one."
    lines = ["*Your pairs' ideas* (only you and your pair see this list)"]
    for stage in STAGES:
        summaries = [escape(idea.summary) for idea, _pair in found if idea.stage == stage]
        if summaries:
            lines.append(f"\n*{STAGE_LABELS[stage]}*")
            lines += [f"• {summary}" for summary in summaries]
    return "\n".join(lines)
