"""The `/mentorship status` text: your pairs, your roles, what comes next."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.roles import Role, roles_of
from storage.repositories.pairs import active_pairs_of
from storage.repositories.people import people_by_id


def status_text(session: Session, *, deps: Deps, user_id: str, now: datetime) -> str:
    """What the user is part of, in a few lines."""
    roles = roles_of(session, programs=deps.programs, user_id=user_id)
    if not roles.enrolled:
        return "You are not in a mentorship program yet. Your program coordinator can pair you."
    lines = []
    for program_id in roles.programs_where(Role.COORDINATOR):
        lines.append(f"You coordinate *{program_id}*.")
    pairs = active_pairs_of(session, user_id=user_id)
    names = people_by_id(session, user_ids=[p.mentor_id for p in pairs] + [p.mentee_id for p in pairs])
    for pair in pairs:
        if pair.mentor_id == user_id:
            other = names.get(pair.mentee_id)
            lines.append(f"You mentor {other.name if other else pair.mentee_id} in *{pair.program_id}*.")
        else:
            other = names.get(pair.mentor_id)
            lines.append(f"Your mentor in *{pair.program_id}* is {other.name if other else pair.mentor_id}.")
    return "\n".join(lines)
