"""Matching on App Home: join, edit or leave for everyone; who has opted in and "Propose matches" for the
program's coordinators (profiles are theirs alone to see)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy.orm import Session

from bot.kernel.deps import Deps
from bot.kernel.roles import Role, UserRoles
from bot.kernel.text import plural
from bot.matching.blocks import join_button, leave_button, propose_button
from bot.matching.pool import MENTEE_ROLES, MENTOR_ROLES
from bot.matching.profiles import matching_programs
from bot.matching.terms import ROLE_LABELS
from bot.slack.blocks import Block, actions, section
from storage.repositories.matching import open_proposal, profiles_in, profiles_of

MAX_PROGRAMS = 5  # Home has 100 blocks for every feature


def home_blocks(session: Session, *, deps: Deps, roles: UserRoles, now: datetime) -> list[Block]:
    """One short part per program that matches people; nothing when none does."""
    programs = matching_programs(deps.programs)[:MAX_PROGRAMS]
    if not programs:
        return []
    mine = {profile.program_id: profile for profile in profiles_of(session, user_id=roles.user_id)}
    blocks: list[Block] = [section("*Matching*")]
    for program in programs:
        profile = mine.get(program.id)
        if profile is None:
            text = (
                f"*{program.name}* matches mentors and mentees. Join to be considered; only its "
                "coordinators see your profile."
            )
            buttons = [join_button(program.id, joined=False, program_name=program.name)]
        else:
            text = f"*{program.name}*: you are in matching as {ROLE_LABELS[profile.role].lower()}."
            joined = join_button(program.id, joined=True, program_name=program.name)
            buttons = [joined, leave_button(program.id, program.name)]
        blocks += [section(text), actions(buttons)]
        if roles.has(Role.COORDINATOR, program.id):
            blocks += coordinator_blocks(session, program_id=program.id, program_name=program.name)
    return blocks


def coordinator_blocks(session: Session, *, program_id: str, program_name: str) -> list[Block]:
    """How many have opted in, the open proposal if any, and the button that makes a new one."""
    roles = Counter(profile.role for profile in profiles_in(session, program_id=program_id))
    mentees = sum(roles[role] for role in MENTEE_ROLES)
    mentors = sum(roles[role] for role in MENTOR_ROLES)
    text = f"Opted in: {plural(mentees, 'mentee')} and {plural(mentors, 'mentor')}."
    waiting = open_proposal(session, program_id=program_id)
    if waiting is not None:
        text += f" Proposal #{waiting.id} is waiting for approval; a new one replaces it."
    block = section(text)
    block["accessory"] = propose_button(program_id, program_name)
    return [block]
