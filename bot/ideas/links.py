"""Linking a mentoring session to an idea: what `/reflect` offers, and checking what it was given."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.ideas.blocks import NO_IDEA, OPTION_TEXT_MAX
from bot.ideas.terms import ABANDONED
from storage.repositories.ideas import get_idea, ideas_of_pairs


def idea_choices(session: Session, *, pair_id: int) -> tuple[tuple[int, str], ...]:
    """The pair's ideas not set aside, as (idea id, one-line summary), newest change first: an adopted
    change is still worked on while it spreads."""
    ideas = [idea for idea in ideas_of_pairs(session, pair_ids=[pair_id]) if idea.stage != ABANDONED]
    return tuple((idea.id, _clip(idea.summary)) for idea in ideas[:20])


def linked_idea(session: Session, *, pair_id: int, value: object) -> int | None:
    """The idea a /reflect submission chose, when it is one of the pair's; None otherwise."""
    if not isinstance(value, str) or value == NO_IDEA or not value.isdigit():
        return None
    idea = get_idea(session, idea_id=int(value))
    return idea.id if idea is not None and idea.pair_id == pair_id else None


def _clip(text: str) -> str:
    return text if len(text) <= OPTION_TEXT_MAX else text[: OPTION_TEXT_MAX - 1] + "…"
