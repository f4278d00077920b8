"""The App Home view: a section per feature, each shown for the roles it concerns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot import checkins, digests, reflections
from bot.deps import Deps
from bot.roles import UserRoles, roles_of
from bot.status import status_text

Blocks = list[dict[str, Any]]
Section = Callable[..., Blocks]  # (session, *, deps, roles, now) -> blocks


def _overview(session: Session, *, deps: Deps, roles: UserRoles, now: datetime) -> Blocks:
    text = status_text(session, deps=deps, user_id=roles.user_id, now=now)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


# Each feature contributes one function; an empty list means "nothing to show for this user".
SECTIONS: list[Section] = [_overview, checkins.home_blocks, reflections.home_blocks, digests.home_blocks]


def build_home(session: Session, *, deps: Deps, user_id: str, now: datetime) -> dict[str, Any]:
    """The Home tab view for `user_id`."""
    roles = roles_of(session, programs=deps.programs, user_id=user_id)
    blocks: Blocks = [{"type": "header", "text": {"type": "plain_text", "text": "Mentorship"}}]
    for section in SECTIONS:
        part = section(session, deps=deps, roles=roles, now=now)
        if part:
            blocks.extend([{"type": "divider"}, *part])
    return {"type": "home", "blocks": blocks[:100]}
